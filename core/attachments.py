"""Attachments: files on any record of any entity.

Rules (SECURITY.md items 9, 21, 37):
* Uploading needs edit rights on the parent record, downloading needs it visible: the parent is always
  loaded through ``services.get`` (scoped) — an attachment id alone opens nothing.
* The type comes from the file's content (magic bytes), never from its name or the browser's claim, and must
  be in ``UPLOAD_ALLOWED_TYPES``; markup (HTML, SVG, XML) and scripts are refused whatever they are called.
* Files live under ``INSTANCE_PATH/uploads/<2 hex>/<32 hex>``: a generated name, so nothing the client sends
  reaches the file system. The client's name is kept, cleaned, for display and the download header only.
* A file is written completely (temporary name, then rename) before its row is committed, and removed when
  the commit fails: no orphan files, no rows pointing at missing files.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import secrets
import unicodedata
import zipfile
from pathlib import Path

from sqlalchemy import select

from core import audit, services
from core.config import split_list
from core.i18n import _l
from core.models import Attachment

MAX_FILENAME = 255
CHUNK = 64 * 1024
MARKUP_WINDOW = 4096

PDF, PNG, JPEG, GIF, ZIP = "application/pdf", "image/png", "image/jpeg", "image/gif", "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"
TEXT, CSV = "text/plain", "text/csv"

MAGIC = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"GIF87a", GIF),
         (b"GIF89a", GIF))
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OOXML_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))
OLE_STREAMS = (("WordDocument", DOC), ("Workbook", XLS), ("Book", XLS), ("PowerPoint Document", PPT))
# Text that a browser or interpreter would treat as markup or code: refused even inside a ".txt".
MARKUP_SIGNS = ("<html", "<script", "<svg", "<?xml", "<!doctype", "<?php", "<body", "<head", "<iframe",
                "<object", "<embed", "<meta", "<link", "<style", "<img", "<a ", "<form", "javascript:",
                "<!entity", "<x:", "<math")


class UploadRejected(Exception):
    """The upload is refused; ``status`` is the HTTP answer (413 too large, 422 type not allowed)."""

    def __init__(self, message, status=422):
        super().__init__(str(message))
        self.message = message
        self.status = status


# ---------------------------------------------------------------- names

def sanitize_filename(name: str | None) -> str:
    """The client's file name made safe to show: no path, no control/format characters (RTL overrides,
    zero-width), at most 255 characters keeping the extension."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and unicodedata.category(c) not in
                   ("Zl", "Zp"))
    name = name.strip()
    if name in ("", ".", ".."):
        return "file"
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name


# ---------------------------------------------------------------- type sniffing

def sniff(path: Path, filename: str = "") -> str | None:
    """The content type recognised from the file's bytes, or None (unknown, markup, script)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(ZIP_MAGIC):
        return _zip_type(path)
    if head.startswith(OLE_MAGIC):
        return _ole_type(path)
    if _is_plain_text(path):
        return CSV if filename.lower().endswith(".csv") else TEXT
    return None


def _zip_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for part, content_type in OOXML_PARTS:
        if part in names:
            return content_type
    return ZIP


def _ole_type(path: Path) -> str | None:
    data = path.read_bytes()
    for stream, content_type in OLE_STREAMS:
        if stream.encode("utf-16-le") + b"\x00\x00" in data:
            return content_type
    return None


def _is_plain_text(path: Path) -> bool:
    """Valid UTF-8 (or GB18030) without NUL bytes, and nothing that looks like markup or a script."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        head = []
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    if b"\x00" in chunk:
                        return False
                    text = decoder.decode(chunk)
                    if sum(len(t) for t in head) < MARKUP_WINDOW:
                        head.append(text)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return not _looks_like_code("".join(head)[:MARKUP_WINDOW])
    return False


def _looks_like_code(text: str) -> bool:
    start = text.lstrip("\ufeff \t\r\n").lower()
    return start.startswith(("<", "#!")) or any(sign in start for sign in MARKUP_SIGNS)


# ---------------------------------------------------------------- storage

def storage_root(settings) -> Path:
    return Path(settings["INSTANCE_PATH"]) / "uploads"


def file_path(settings, attachment: Attachment) -> Path:
    name = attachment.stored_name
    if len(name) != 32 or any(c not in "0123456789abcdef" for c in name):
        raise services.NotFound("attachment storage name")  # never follow a name we did not generate
    return storage_root(settings) / name[:2] / name


def allowed_types(settings) -> set[str]:
    return set(split_list(settings.get("UPLOAD_ALLOWED_TYPES", "")))


def _write(stream, target: Path, max_bytes: int) -> tuple[int, str]:
    """Copy ``stream`` to ``target``; returns (size, sha256). Too large -> UploadRejected(413)."""
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as fh:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadRejected(_l("The file is too large (at most %(mb)s MB).",
                                        mb=max_bytes // (1024 * 1024)), status=413)
            digest.update(chunk)
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return size, digest.hexdigest()


def upload(session, spec, record_id, stream, filename, user_id, settings) -> Attachment:
    """Attach the file read from ``stream`` to a record the caller may edit."""
    services.get(session, spec, record_id, action="edit")
    stored = secrets.token_hex(16)
    folder = storage_root(settings) / stored[:2]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial, final = folder / f"{stored}.part", folder / stored
    display_name = sanitize_filename(filename)
    try:
        size, sha256 = _write(stream, partial, int(settings["MAX_UPLOAD_MB"]) * 1024 * 1024)
        if size == 0:
            raise UploadRejected(_l("The file is empty."))
        content_type = sniff(partial, display_name)
        if content_type is None or content_type not in allowed_types(settings):
            raise UploadRejected(_l("This type of file is not allowed."))
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    attachment = Attachment(entity=spec.name, record_id=record_id, filename=display_name, stored_name=stored,
                            content_type=content_type, size=size, sha256=sha256, uploaded_by_id=user_id)
    try:
        session.add(attachment)
        if spec.audit:
            audit.record(session, spec.name, record_id, "attach", user_id, {"attachment": [None, display_name]})
        session.commit()
    except BaseException:
        session.rollback()
        final.unlink(missing_ok=True)
        raise
    return attachment


def attachments_of(session, entity: str, record_id: int) -> list[Attachment]:
    """Attachments of one record (the caller has already loaded the record through its scope)."""
    return session.execute(select(Attachment).where(Attachment.entity == entity, Attachment.record_id == record_id)
                           .order_by(Attachment.id.desc())).scalars().all()


def get_for(session, registry, attachment_id: int, action="view") -> tuple[Attachment, object]:
    """(attachment, parent spec) when the caller may ``action`` the parent record, else ``NotFound``."""
    attachment = session.execute(select(Attachment).where(Attachment.id == attachment_id)).scalar_one_or_none()
    spec = registry.get(attachment.entity) if attachment is not None else None
    if spec is None:
        raise services.NotFound(f"attachment {attachment_id}")
    try:
        services.get(session, spec, attachment.record_id, action=action)
    except services.Forbidden:
        raise services.NotFound(f"attachment {attachment_id}") from None
    return attachment, spec


def delete(session, registry, attachment_id: int, user_id, settings) -> Attachment:
    """Remove an attachment of a record the caller may edit: the row, then the file."""
    attachment, spec = get_for(session, registry, attachment_id, action="edit")
    path = file_path(settings, attachment)
    session.delete(attachment)
    if spec.audit:
        audit.record(session, spec.name, attachment.record_id, "detach", user_id,
                     {"attachment": [attachment.filename, None]})
    session.commit()
    path.unlink(missing_ok=True)
    return attachment
