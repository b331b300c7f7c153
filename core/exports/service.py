"""Export jobs: the list state is kept with the job, the job rebuilds the same query under the requester's
scope, writes the file outside the web root under a generated name, and only the requester may download it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import secrets
from pathlib import Path

from sqlalchemy import select

from core import services
from core.db import utcnow
from core.exports.models import ExportJob
from core.exports.xlsx import write_xlsx
from core.i18n import _l
from core.scope import current_scope

FORMATS = ("xlsx", "csv")
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv; charset=utf-8"}


class ExportTooLarge(Exception):
    """More rows than ``EXPORT_MAX_ROWS``: the user narrows the filter."""


def storage_dir(config) -> Path:
    path = Path(config["INSTANCE_PATH"]) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_columns(spec) -> list[str]:
    """The list page's columns for the current request's user (chosen columns, custom fields), id first,
    hidden fields never — the same choice as the CSV export."""
    from core.web import listing
    return ["id"] + [c for c in listing.visible_columns(spec) if c != "id"]


@contextlib.contextmanager
def list_request(session, query_args: dict):
    """Rebuild the list page's request (its query string) around a job's session, so the job parses the
    list state with the very code of the list page and its export: same rows, same columns."""
    from flask import current_app, g

    with current_app.test_request_context("/", query_string=query_args):
        previous = g.get("_guanxi_session"), g.get("user")
        g._guanxi_session, g.user = session, current_scope(session).user
        try:
            yield
        finally:
            g.pop("_guanxi_session", None)
            g.pop("user", None)
            if previous[0] is not None:
                g._guanxi_session = previous[0]
            if previous[1] is not None:
                g.user = previous[1]


def count_exceeds(session, spec, stmt, cap: int) -> bool:
    return services.page(session, spec, stmt, limit=1, count_cap=cap).count_capped


def xlsx_bytes(session, spec, stmt, sort, columns) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(session, spec, stmt, sort, columns, buffer)
    return buffer.getvalue()


def start(session, spec, file_format, params) -> ExportJob:
    services.require(session, spec.permission("export"))
    job = ExportJob(user_id=current_scope(session).user_id, entity=spec.name, file_format=file_format,
                    status="queued", params=params, filename="")
    session.add(job)
    session.commit()
    return job


def get_job(session, job_id) -> ExportJob:
    """The caller's own export job; anyone else's id answers NotFound."""
    job = session.execute(select(ExportJob).where(ExportJob.id == job_id)
                          .execution_options(populate_existing=True)).scalar_one_or_none()
    if job is None or job.user_id != current_scope(session).user_id:
        raise services.NotFound(f"export {job_id}")
    return job


def file_path(job, config) -> Path | None:
    if job.status != "done" or not job.stored_name:
        return None
    path = storage_dir(config) / job.stored_name
    return path if path.is_file() else None


def run(session, spec, job, config):
    """Write the export file; progress is committed after every batch."""
    from core.web import listing

    services.require(session, spec.permission("export"))
    with list_request(session, (job.params or {}).get("args") or {}):
        args = listing.parse_list_args(spec)
        stmt = listing.list_statement(session, spec, args)
        columns = export_columns(spec)
        cap = int(config.get("EXPORT_MAX_ROWS", 1_000_000))
        counted = services.page(session, spec, stmt, limit=1, count_cap=cap)
        if counted.count_capped:
            raise ExportTooLarge(_l("More than %(n)d rows: narrow the list with filters first.", n=cap))
        job.status, job.total = "running", counted.count
        session.commit()
        stored = f"{secrets.token_hex(16)}.{job.file_format}"
        path = storage_dir(config) / stored
        partial = path.with_suffix(".part")

        def progress(done):
            job.processed = done
            session.commit()

        try:
            if job.file_format == "xlsx":
                write_xlsx(session, spec, stmt, args.sort, columns, str(partial), progress=progress)
            else:
                _write_csv(session, spec, stmt, args.sort, columns, partial, progress)
            os.replace(partial, path)
        finally:
            if partial.exists():
                partial.unlink()
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    job.stored_name, job.filename = stored, f"{spec.label_plural}-{today}.{job.file_format}"
    job.status, job.finished_at = "done", utcnow()
    session.commit()


def _write_csv(session, spec, stmt, sort, columns, path, progress):
    from core.web.export import export_rows

    done = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for chunk in export_rows(session, spec, stmt, sort, columns):
            fh.write(chunk)
            done += max(chunk.count("\r\n") - (1 if done == 0 else 0), 0)
            progress(done)


def cleanup(session, config, now=None) -> int:
    """Remove export files older than ``EXPORT_KEEP_DAYS`` (their jobs become "expired") and import uploads
    and error reports older than ``IMPORT_KEEP_DAYS``. Returns the number of files removed."""
    from core.imports.models import ImportJob
    from core.imports.service import storage_dir as import_dir

    now = now or utcnow()
    removed = 0
    export_before = now - dt.timedelta(days=int(config.get("EXPORT_KEEP_DAYS", 7)))
    for job in session.execute(select(ExportJob).where(ExportJob.status == "done",
                                                       ExportJob.finished_at < export_before)).scalars():
        removed += _unlink(storage_dir(config) / job.stored_name) if job.stored_name else 0
        job.status, job.stored_name = "expired", None
    import_before = now - dt.timedelta(days=int(config.get("IMPORT_KEEP_DAYS", 30)))
    for job in session.execute(select(ImportJob).where(ImportJob.created_at < import_before,
                                                       ImportJob.stored_name != "")).scalars():
        for name in (job.stored_name, job.error_report):
            removed += _unlink(import_dir(config) / name) if name else 0
        job.stored_name, job.error_report = "", None
    session.commit()
    return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except FileNotFoundError:
        return 0
