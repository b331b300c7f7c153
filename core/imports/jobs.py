"""Background jobs of the import: the run and the undo, each under the requesting user's own data scope
(rebuilt from the database when the job starts, so a user deactivated meanwhile imports nothing)."""
from __future__ import annotations

import contextlib
import logging

from flask import current_app
from flask_babel import force_locale
from marshmallow import ValidationError
from sqlalchemy import select

from core import jobs
from core.i18n import _l
from core.imports import readers, service
from core.imports.models import ImportJob
from core.models import User
from core.scope import build_user_scope, set_scope

log = logging.getLogger("guanxi.imports")


@contextlib.contextmanager
def as_user(session, user_id):
    """Switch the job's session to ``user_id``'s data scope and language."""
    gx = current_app.extensions["guanxi"]
    user = session.execute(select(User).where(User.id == user_id)).scalar_one()
    set_scope(session, build_user_scope(session, user, gx.entities, gx.hook))
    languages = [c for c in current_app.config["LANGUAGES"].split(",") if c]
    language = user.language if user.language in languages else current_app.config["DEFAULT_LANGUAGE"]
    with force_locale(language):
        yield user


def _load(session, import_id):
    return session.execute(select(ImportJob).where(ImportJob.id == import_id)).scalar_one_or_none()


@jobs.task("core.imports.run")
def run_import(session, import_id):
    job = _load(session, import_id)
    if job is None or job.status != "queued":
        return None
    gx = current_app.extensions["guanxi"]
    with as_user(session, job.user_id):
        try:
            spec = gx.entities[job.entity]
            service.run(session, spec, gx.entities, job, current_app.config)
        except Exception as exc:  # the job row says what happened; the rows before stay (undo exists)
            session.rollback()
            job = _load(session, import_id)
            job.status, job.message = "failed", failure_message(exc)
            job.finished_at = _now()
            session.commit()
            if not isinstance(exc, readers.ImportFileError):
                log.exception("import %s failed", import_id)
    return {"created": job.created, "updated": job.updated, "skipped": job.skipped, "failed": job.failed}


@jobs.task("core.imports.undo")
def undo_import(session, import_id, user_id):
    job = _load(session, import_id)
    if job is None or job.status != "undoing":
        return None
    gx = current_app.extensions["guanxi"]
    with as_user(session, user_id):
        job.status = "done"  # undo() requires a finished import; the row is not committed in between
        try:
            service.undo(session, gx.entities[job.entity], job)
        except Exception as exc:
            session.rollback()
            job = _load(session, import_id)
            job.status, job.message = "done", failure_message(exc)
            session.commit()
            if not isinstance(exc, service.UndoRefused):
                log.exception("undo of import %s failed", import_id)
    return job.status


def failure_message(exc) -> str:
    """What the user reads on the job page: our own refusals verbatim, anything else in general terms."""
    if isinstance(exc, (readers.ImportFileError, service.UndoRefused)):
        return str(exc)
    if isinstance(exc, ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        return " ".join(str(m) for value in messages.values() for m in (value if isinstance(value, list) else [value]))
    return str(_l("An unexpected error stopped this job; the administrator finds the details in the log."))


def _now():
    from core.db import utcnow
    return utcnow()


__all__ = ["run_import", "undo_import", "as_user", "failure_message"]
