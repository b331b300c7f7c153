"""Attachments: content-sniffed types, generated storage names, parent-scoped download, friendly 413."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from core.attachments import sanitize_filename, sniff
from core.models import Attachment, Customer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def make_customer(session, owner, name="Files Co"):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def upload(client, token, record, content, filename, entity="customer"):
    return client.post(f"/attachments/{entity}/{record.id}", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), filename)})


def attachments(session):
    session.rollback()  # nothing pending: a fresh snapshot (MariaDB repeatable read)
    session.expire_all()
    return session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()


def test_png_is_accepted_stored_under_a_generated_name_and_downloadable(app, org, client_as, csrf,
                                                                          system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    response = upload(client, csrf(client), customer, PNG, "../../etc/截图\u202egnp.exe.png")
    assert response.status_code == 302, response.get_data(as_text=True)
    (row,) = attachments(system_session)
    assert row.content_type == "image/png" and row.size == len(PNG) and len(row.sha256) == 64
    assert re.fullmatch(r"[0-9a-f]{32}", row.stored_name)
    assert row.filename == "截图gnp.exe.png"
    stored = Path(app.config["INSTANCE_PATH"]) / "uploads" / row.stored_name[:2] / row.stored_name
    assert stored.read_bytes() == PNG

    detail = client.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert f"/attachments/{row.id}" in detail and "截图gnp.exe.png" in detail
    download = client.get(f"/attachments/{row.id}")
    assert download.status_code == 200 and download.get_data() == PNG
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.mimetype == "image/png"


@pytest.mark.parametrize("content, filename", [
    (HTML, "photo.png"), (SVG, "logo.svg"), (SVG, "logo.png"), (b"#!/bin/sh\nrm -rf /\n", "notes.txt"),
    (b"<?php system($_GET['c']); ?>", "x.PhP.jpg"), (b"MZ\x90\x00\x03" + b"\x00" * 50, "setup.pdf"),
])
def test_markup_scripts_and_unknown_types_are_rejected(org, client_as, csrf, system_session, content, filename):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    response = upload(client, csrf(client), customer, content, filename)
    assert response.status_code == 422
    assert "not allowed" in response.get_data(as_text=True)
    assert attachments(system_session) == []


def test_oversize_upload_gets_a_friendly_413(app, org, client_as, csrf, system_session, monkeypatch):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    token = csrf(client)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    response = upload(client, token, customer, PNG + b"\x00" * 4096, "big.png")
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)
    assert attachments(system_session) == []


def test_service_limit_also_applies_when_the_request_limit_is_larger(app, org, client_as, csrf, system_session,
                                                                     monkeypatch):
    import core.attachments as service
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    monkeypatch.setattr(service, "CHUNK", 1024)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 0)  # 0 bytes allowed by the service itself
    response = upload(client, csrf(client), customer, PNG, "small.png")
    assert response.status_code == 413
    assert attachments(system_session) == []
    leftovers = list((Path(app.config["INSTANCE_PATH"]) / "uploads").rglob("*.part"))
    assert leftovers == []


def test_other_reps_cannot_upload_download_or_delete(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    owner = client_as(org.rep_east)
    upload(owner, csrf(owner), customer, PNG, "a.png")
    (row,) = attachments(system_session)
    west = client_as(org.rep_west)
    token = csrf(west)
    assert west.get(f"/attachments/{row.id}").status_code == 404
    assert west.get("/attachments/999999").status_code == 404
    assert upload(west, token, customer, PNG, "b.png").status_code == 404
    assert west.post(f"/attachments/{row.id}/delete", data={"csrf_token": token}).status_code == 404
    assert len(attachments(system_session)) == 1
    assert client_as(org.manager_east).get(f"/attachments/{row.id}").status_code == 200
    # the service role may view every customer but edit none: download yes, upload no
    service = client_as(org.service)
    assert service.get(f"/attachments/{row.id}").status_code == 200
    assert upload(service, csrf(service), customer, PNG, "c.png").status_code == 403


def test_attachment_of_a_deleted_record_is_not_served(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    token = csrf(client)
    upload(client, token, customer, PNG, "a.png")
    (row,) = attachments(system_session)
    client.post(f"/r/customer/{customer.id}/delete", data={"csrf_token": token})
    assert client.get(f"/attachments/{row.id}").status_code == 404


def test_delete_removes_row_and_file(app, org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    token = csrf(client)
    upload(client, token, customer, b"name,phone\n\xe5\xbc\xa0\xe4\xb8\x89,138\n", "list.csv")
    (row,) = attachments(system_session)
    assert row.content_type == "text/csv"
    stored = Path(app.config["INSTANCE_PATH"]) / "uploads" / row.stored_name[:2] / row.stored_name
    assert stored.exists()
    assert client.post(f"/attachments/{row.id}/delete", data={"csrf_token": token}).status_code == 302
    assert attachments(system_session) == [] and not stored.exists()
    history = client.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert "removed a file" in history and "added a file" in history


def test_uploads_work_on_any_entity(org, client_as, csrf, system_session):
    from core.models import Product
    product = Product(code="ATT-1", name="Attachable")
    system_session.add(product)
    system_session.commit()
    boss = client_as(org.boss)
    assert upload(boss, csrf(boss), product, b"%PDF-1.7\n%...", "spec sheet.pdf", entity="product").status_code == 302
    assert attachments(system_session)[0].entity == "product"


def _zip(names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize("content, name, expected", [
    (b"%PDF-1.4 ...", "a.pdf", "application/pdf"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "a.jpg", "image/jpeg"),
    (b"GIF89a" + b"\x00" * 10, "a.gif", "image/gif"),
    (_zip(["word/document.xml", "[Content_Types].xml"]), "a.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (_zip(["xl/workbook.xml"]), "a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (_zip(["readme.txt"]), "a.zip", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "WordDocument".encode("utf-16-le") + b"\x00\x00",
     "a.doc", "application/msword"),
    ("客户名单".encode("gb18030") + b"\r\n", "a.txt", "text/plain"),
    (b"plain words", "a.png", "text/plain"),
    (b"a\x00b", "a.txt", None),
    (b"\xff\xfe\xfd", "a.txt", None),
    (b"<html><body>hi</body></html>", "a.txt", None),
    (b"  \n<svg/onload=alert(1)>", "a.csv", None),
])
def test_sniffing(tmp_path, content, name, expected):
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert sniff(path, name) == expected


@pytest.mark.parametrize("raw, clean", [
    ("C:\\Users\\x\\report.pdf", "report.pdf"), ("../../etc/passwd", "passwd"), ("a\x00b\r\n.txt", "ab.txt"),
    ("evil\u202egpj.exe", "evilgpj.exe"), ("..", "file"), ("", "file"), ("  报价单.xlsx ", "报价单.xlsx"),
])
def test_client_filenames_are_cleaned(raw, clean):
    assert sanitize_filename(raw) == clean


def test_long_filenames_keep_their_extension():
    name = sanitize_filename("长" * 400 + ".pdf")
    assert len(name) == 255 and name.endswith(".pdf")
