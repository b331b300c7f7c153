"""Import services: upload, mapping, preview, the run (in a job), the error report and "undo this import".

Every function takes a session carrying the importer's data scope. An import job belongs to its importer:
``get_job`` answers ``NotFound`` for anyone else (admins holding ``core.admin.imports`` may open and undo
it, but never download its error report, which repeats the file's data).
"""
from __future__ import annotations

import csv
import datetime as dt
import gc
import itertools
import logging
import os
import secrets
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from marshmallow import ValidationError
from sqlalchemy import insert, select, update

from core import audit, services, signals
from core.db import utcnow
from core.i18n import _, _l
from core.imports import readers
from core.imports.checks import TAGS
from core.imports.engine import BATCH_SIZE, ROW, Importer, reindex
from core.imports.fields import entity_schema, importable_fields, suggest as suggest_mapping
from core.imports.models import ImportChange, ImportJob, ImportMapping
from core.models import AuditEntry
from core.scope import current_scope
from core.web.export import defuse_formula

log = logging.getLogger("guanxi.imports")

ADMIN_PERMISSION = "core.admin.imports"
PREVIEW_ROWS = 20
UNDO_CHUNK = 1000
INDEX_CHUNK = 5000  # records per search-index transaction after the import
GC_THRESHOLD = 50_000  # allocations between two young-generation collections during an import run


class UndoRefused(Exception):
    """Records of the import changed since (or left the caller's reach): nothing was undone."""


def storage_dir(config) -> Path:
    path = Path(config["INSTANCE_PATH"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _clean_filename(name: str) -> str:
    name = "".join(c for c in (name or "") if unicodedata.category(c)[0] != "C")
    return os.path.basename(name.replace("\\", "/"))[:200] or "import"


def start(session, spec, stream, filename, config) -> ImportJob:
    """Store the upload under a generated name, check it whole (``readers.scan``) and create the job.

    Raises ``readers.ImportFileError`` (and removes the file) when it cannot be imported.
    """
    services.require(session, spec.permission("create"))
    stored_name = secrets.token_hex(16)
    path = storage_dir(config) / stored_name
    with open(path, "wb") as fh:
        while chunk := stream.read(readers.CHUNK):
            fh.write(chunk)
    try:
        info = readers.scan(path, readers.Limits.from_config(config))
    except readers.ImportFileError:
        path.unlink(missing_ok=True)
        raise
    job = ImportJob(user_id=current_scope(session).user_id, entity=spec.name, status="uploaded",
                    filename=_clean_filename(filename), stored_name=stored_name, file_format=info.file_format,
                    encoding=info.encoding, header=info.header, total=info.total, mapping={}, options={})
    session.add(job)
    session.commit()
    return job


def get_job(session, entity, job_id, *, admin_may=False) -> ImportJob:
    """The caller's own import job (``admin_may``: or any, for holders of ``core.admin.imports``)."""
    scope = current_scope(session)
    job = session.execute(select(ImportJob).where(ImportJob.id == job_id, ImportJob.entity == entity)
                          .execution_options(populate_existing=True)).scalar_one_or_none()
    if job is None or job.user_id is None:
        raise services.NotFound(f"import {job_id}")
    if job.user_id != scope.user_id and not (admin_may and scope.has(ADMIN_PERMISSION)):
        raise services.NotFound(f"import {job_id}")
    return job


def recent_jobs(session, entity, limit=10):
    scope = current_scope(session)
    return session.execute(select(ImportJob).where(ImportJob.user_id == scope.user_id, ImportJob.entity == entity)
                           .order_by(ImportJob.id.desc()).limit(limit)).scalars().all()


def make_importer(session, spec, registry, job, mapping=None, options=None) -> Importer:
    return Importer(session, spec, registry, job.mapping if mapping is None else mapping,
                    job.options if options is None else options, width=len(job.header), import_id=job.id)


def importable_fields_for(session, spec):
    """The mapping targets the caller may import into (hidden fields left out)."""
    scope = current_scope(session)
    return importable_fields(spec, scope, entity_schema(spec, scope, session))


def suggest(job, fields, saved=None) -> dict:
    """A first mapping for the job's header (a saved mapping's headers win over label matching)."""
    return suggest_mapping(job.header, fields, saved.columns if saved is not None else None)


def configure(session, spec, registry, job, mapping: dict, options: dict):
    """Keep the chosen mapping and options (validated: no hidden field, an owner in scope, "update" only
    with the edit permission)."""
    if job.status not in ("uploaded", "ready"):
        raise ValidationError({"mapping": [str(_l("This import has already run."))]})
    if options.get("duplicates") == "update" and not current_scope(session).has(spec.permission("edit")):
        raise ValidationError({"duplicates": [str(_l("You may not change existing records."))]})
    importer = make_importer(session, spec, registry, job, mapping, options)
    job.mapping = {str(index): name for index, name in importer.mapping.items()}
    job.options = {"duplicates": importer.mode, "match": importer.match, "new_tags": importer.new_tags,
                   "owner_id": importer.default_owner.id if importer.default_owner is not None else None}
    job.status = "ready"
    session.commit()


def save_mapping(session, job, name: str):
    """Save the job's mapping under ``name`` (header text -> field), replacing one of the same name."""
    name = name.strip()[:100]
    if not name:
        raise ValidationError({"mapping_name": [str(_l("Give the mapping a name."))]})
    user_id = current_scope(session).user_id
    columns = {job.header[int(i)]: field for i, field in job.mapping.items()}
    saved = session.execute(select(ImportMapping).where(
        ImportMapping.user_id == user_id, ImportMapping.entity == job.entity, ImportMapping.name == name)
    ).scalar_one_or_none()
    if saved is None:
        saved = ImportMapping(user_id=user_id, entity=job.entity, name=name)
        session.add(saved)
    saved.columns = columns
    session.commit()
    return saved


def saved_mappings(session, entity):
    user_id = current_scope(session).user_id
    return session.execute(select(ImportMapping).where(
        ImportMapping.user_id == user_id, ImportMapping.entity == entity).order_by(ImportMapping.name)
    ).scalars().all()


def saved_mapping(session, entity, mapping_id):
    """One of the caller's saved mappings, or None (another user's id finds nothing)."""
    user_id = current_scope(session).user_id
    return session.execute(select(ImportMapping).where(
        ImportMapping.id == mapping_id, ImportMapping.user_id == user_id, ImportMapping.entity == entity)
    ).scalar_one_or_none()


def _rows(job, config):
    path = storage_dir(config) / job.stored_name
    return readers.data_rows(path, job.file_format, job.encoding, readers.Limits.from_config(config))


def preview(session, spec, registry, job, config, size=PREVIEW_ROWS):
    """The first rows as the run would treat them (validated, owners, references, duplicates); no writes."""
    importer = make_importer(session, spec, registry, job)
    rows = [importer.convert(line, cells) for line, cells in itertools.islice(_rows(job, config), size)]
    importer.prepare(rows)
    session.rollback()  # nothing to keep; releases the read transaction
    return importer, rows


# ------------------------------------------------------------------ the run

class ErrorReport:
    """The failed rows as CSV: row number, the original cells (defused) and the errors per field."""

    def __init__(self, directory: Path, job, fields):
        self.name = secrets.token_hex(16)
        self.path = directory / self.name
        self.fields = fields
        self.handle = None
        self.header = job.header

    def add(self, row):
        if self.handle is None:
            self.handle = open(self.path, "w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            self.writer.writerow([defuse_formula(h) for h in [_("Row"), *self.header, _("Errors")]])
        self.writer.writerow([str(row.line), *[defuse_formula(c) for c in row.cells], defuse_formula(
            error_text(row, self.fields))])

    def close(self):
        if self.handle is not None:
            self.handle.close()
            return self.name
        return None


def error_text(row, fields) -> str:
    parts = []
    for name, messages in row.errors.items():
        text = " ".join(messages)
        parts.append(text if name == ROW else f"{fields[name].label if name in fields else name}: {text}")
    return "; ".join(parts)


def run(session, spec, registry, job, config):
    """Import every row of ``job`` in batches (one transaction each; failed rows go to the error report),
    then add the records it created to the global search index (status "indexing"). The job is "done" —
    and may be undone — once every imported record can be found."""
    importer = make_importer(session, spec, registry, job)
    report = ErrorReport(storage_dir(config), job, importer.fields)
    job.status, job.processed = "running", 0
    session.commit()
    unindexed: list[int] = []
    try:
        with _fewer_collections():
            for batch in _chunks(_rows(job, config), BATCH_SIZE):
                for outcome in _write_batch(session, importer, job, batch, unindexed):
                    for row in outcome.rows:
                        if row.action == "fail":
                            report.add(row)
                    importer.after_commit(outcome)
    except Exception:
        # the job fails (``jobs.run_import``), the batches committed before stay (undo exists): make them
        # findable too, without hiding the original error
        session.rollback()
        try:
            _index(session, spec, job, unindexed)
        except Exception:
            log.exception("import %s: search index of the rows written before the failure", job.id)
        raise
    finally:
        job.error_report = report.close()
        session.commit()
    if unindexed:
        job.status = "indexing"
        session.commit()
        _index(session, spec, job, unindexed)
    job.status, job.finished_at = "done", utcnow()
    session.commit()


def _index(session, spec, job, ids):
    """The search index of the records the batches created, after they were committed (separate
    transactions of ``INDEX_CHUNK`` records: the index reads the committed rows, so a record someone
    edited meanwhile is indexed as it is now). Indexing them inside each batch cost three times the rest
    of the import (tokenising pinyin, ~30 index rows per record in random key order); here the tokens of
    many records go out sorted, in one statement per page (``core.search.bulk``). Should the index fail,
    the records stay imported (and undoable) and the job says that search needs a rebuild."""
    try:
        with _fewer_collections():
            for chunk in _chunks(ids, INDEX_CHUNK):
                reindex(session, spec, chunk, chunk=INDEX_CHUNK)
                session.commit()
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        session.rollback()
        log.exception("import %s: search index not updated", job.id)
        job.message = str(_l("The records were imported, but some of them cannot be found by the search box "
                             "until an administrator rebuilds the search index."))


@contextmanager
def _fewer_collections():
    """Fewer cyclic garbage collections while batches run: each batch allocates tens of thousands of short-
    lived dicts and tuples (no cycles among them), and the default threshold makes the collector walk the
    young objects every 700 allocations — measured at ~10 % of an import's CPU time. The old threshold comes
    back afterwards; reference counting frees the batches' objects as usual meanwhile."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _write_batch(session, importer, job, batch, unindexed):
    """Write one batch; when the database refuses it (a unique value taken), retry row by row so only the
    offending rows fail. Yields the committed outcomes; the ids of bulk-inserted records (not yet in the
    search index) are appended to ``unindexed``."""
    checkpoint = importer.checkpoint()
    try:
        outcome = importer.process(batch)
        _count(job, outcome)
        session.commit()
        unindexed.extend(values["id"] for values in importer.inserted)
        yield outcome
        return
    except Exception as exc:  # IntegrityError and friends: find the rows responsible
        if not _is_database_error(exc):
            raise
        session.rollback()
        importer.restore(checkpoint)
    for item in batch:
        checkpoint = importer.checkpoint()
        try:
            outcome = importer.process([item])
            _count(job, outcome)
            session.commit()
            unindexed.extend(values["id"] for values in importer.inserted)
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            session.rollback()
            importer.restore(checkpoint)
            row = importer.convert(*item)
            row.fail(ROW, _l("The database refused this row (a value that must be unique is already taken?)."))
            outcome = type("Outcome", (), {"rows": [row], "created_ids": [], "updated_ids": []})()
            _count(job, outcome)
            session.commit()
        yield outcome


def _is_database_error(exc) -> bool:
    from sqlalchemy.exc import DBAPIError
    return isinstance(exc, DBAPIError)


def _count(job, outcome):
    for row in outcome.rows:
        if row.action == "create":
            job.created += 1
        elif row.action == "update":
            job.updated += 1
        elif row.action == "skip":
            job.skipped += 1
        else:
            job.failed += 1
    job.processed += len(outcome.rows)


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def error_report_path(job, config) -> Path | None:
    if not job.error_report:
        return None
    path = storage_dir(config) / job.error_report
    return path if path.is_file() else None


# ------------------------------------------------------------------ undo

def undo(session, spec, job):
    """Soft-delete what the import created and put back what it changed — all or nothing.

    Refused (``UndoRefused``) when any of those records changed since the import (its version moved on,
    it was deleted) or is no longer within the caller's reach for delete/edit.
    """
    if job.status != "done":
        raise UndoRefused(_l("Only a finished import can be undone."))
    created = _changes(session, job, "create")
    updated = _changes(session, job, "update")
    _verify(session, spec, created, "delete")
    _verify(session, spec, updated, "edit")
    scope = current_scope(session)
    now = utcnow()
    deleted_ids = _soft_delete(session, spec, created, now)
    reverted_ids = _revert(session, spec, updated)
    if spec.audit and deleted_ids:
        for chunk in _chunks(deleted_ids, UNDO_CHUNK):
            session.execute(insert(AuditEntry.__table__), [
                {"entity": spec.name, "record_id": rid, "action": "import-undo", "user_id": scope.user_id,
                 "at": now, "changes": {}} for rid in chunk])
    job.status, job.message = "undone", None
    reindex(session, spec, deleted_ids + reverted_ids)
    session.commit()
    signals.import_undone.send(spec.name, import_id=job.id, user_id=scope.user_id, deleted_ids=deleted_ids,
                               reverted_ids=reverted_ids)


def _changes(session, job, action):
    """``[(record id, version after the import, old values)]``; created records are stored per batch."""
    rows = session.execute(select(ImportChange).where(ImportChange.import_id == job.id,
                                                      ImportChange.action == action)
                           .order_by(ImportChange.id)).scalars().all()
    if action == "create":
        return [Change(rid, row.version, None) for row in rows for rid in (row.old_values or {}).get("ids", [])]
    return [Change(row.record_id, row.version, row.old_values) for row in rows]


@dataclass
class Change:
    record_id: int
    version: int | None
    old_values: dict | None


def _verify(session, spec, changes, action):
    model = spec.model
    scope = current_scope(session)
    if changes and not scope.has(spec.permission(action)):
        raise UndoRefused(_l("You may not undo this import."))
    criteria = scope.criteria(spec, action)
    versioned = hasattr(model, "version")
    for chunk in _chunks(changes, UNDO_CHUNK):
        stmt = select(model.id, model.version if versioned else model.id).where(
            model.id.in_([c.record_id for c in chunk]))
        if criteria is not None:
            stmt = stmt.where(criteria)
        current = dict(session.execute(stmt).all())
        for change in chunk:
            if change.record_id not in current or (versioned and current[change.record_id] != change.version):
                raise UndoRefused(_l("Some records of this import were changed or deleted since: "
                                     "nothing was undone."))


def _soft_delete(session, spec, changes, now) -> list[int]:
    model = spec.model
    ids = [c.record_id for c in changes]
    if not hasattr(model, "deleted_at"):
        raise UndoRefused(_l("Records of this kind cannot be moved to the recycle bin."))
    for chunk in _chunks(ids, UNDO_CHUNK):
        values = {"deleted_at": now}
        if hasattr(model, "version"):
            values["version"] = model.version + 1  # a bulk UPDATE does not bump it by itself
        result = session.execute(update(model).where(model.id.in_(chunk)).values(**values)
                                 .execution_options(synchronize_session=False))
        if result.rowcount != len(chunk):
            session.rollback()
            raise UndoRefused(_l("Some records of this import were changed or deleted since: nothing was undone."))
    return ids


def _revert(session, spec, changes) -> list[int]:
    model = spec.model
    scope = current_scope(session)
    reverted = []
    for chunk in _chunks(changes, UNDO_CHUNK):
        records = {r.id: r for r in session.execute(
            select(model).where(model.id.in_([c.record_id for c in chunk]))
            .execution_options(populate_existing=True)).unique().scalars()}
        for change in chunk:
            record = records[change.record_id]
            diff = {}
            for key, old in (change.old_values or {}).items():
                if key == TAGS:  # the tags the record had before the import added some
                    diff[key] = [[t.name for t in record.tags], old]
                    record.tags = [t for t in record.tags if t.name in set(old)]
                    continue
                value = _typed(model, key, old)
                diff[key] = [getattr(record, key), value]
                setattr(record, key, value)
            if spec.audit:
                audit.record(session, spec.name, record.id, "import-undo", scope.user_id,
                             {k: v for k, v in diff.items() if k != "department_id"})
            reverted.append(record.id)
        session.flush()
    return reverted


def _typed(model, key, value):
    """A JSON-stored old value back in the column's Python type."""
    if value is None:
        return None
    column = model.__table__.columns.get(key)
    try:
        python_type = column.type.python_type if column is not None else None
    except NotImplementedError:
        python_type = None
    if python_type is Decimal:
        return Decimal(value)
    if python_type is dt.datetime:
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    return value
