"""Helpers of the import tests: files in every encoding and format, and the upload -> mapping -> run flow."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from core.imports.models import ImportJob


def csv_bytes(rows, encoding="utf-8", bom=False) -> bytes:
    text = "\r\n".join(",".join(_quote(c) for c in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _quote(cell) -> str:
    cell = str(cell)
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


def xlsx_bytes(rows) -> bytes:
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, csrf, entity, data: bytes, filename="customers.csv"):
    token = csrf(client, f"/import/{entity}/")
    return client.post(f"/import/{entity}/", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def job_id_of(response) -> int:
    match = re.search(r"/import/\w+/(\d+)/", response.headers.get("Location", ""))
    assert match, (response.status_code, response.get_data(as_text=True)[:500])
    return int(match.group(1))


def map_columns(client, csrf, entity, job_id, columns: dict, **options):
    token = csrf(client, f"/import/{entity}/{job_id}/mapping")
    form = {"csrf_token": token, **{f"col_{i}": name for i, name in columns.items()}}
    form.update({k: ("" if v is None else str(v)) for k, v in options.items()})
    return client.post(f"/import/{entity}/{job_id}/mapping", data=form)


def run(client, csrf, entity, job_id):
    token = csrf(client, f"/import/{entity}/{job_id}/preview")
    return client.post(f"/import/{entity}/{job_id}/run", data={"csrf_token": token})


def full_import(client, csrf, entity, data, columns, filename="file.csv", **options):
    """Upload, map, run; returns the job id (the memory queue runs the job inline)."""
    response = upload(client, csrf, entity, data, filename)
    job_id = job_id_of(response)
    mapped = map_columns(client, csrf, entity, job_id, columns, **options)
    assert mapped.status_code == 302, mapped.get_data(as_text=True)[:3000]
    ran = run(client, csrf, entity, job_id)
    assert ran.status_code == 302
    return job_id


def load_job(session, job_id) -> ImportJob:
    session.commit()  # a new snapshot: MariaDB's REPEATABLE READ would keep showing the old row
    return session.execute(select(ImportJob).where(ImportJob.id == job_id)
                           .execution_options(populate_existing=True)).scalar_one()
