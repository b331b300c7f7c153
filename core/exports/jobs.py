"""The export job and the daily clean-up of old export/import files."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from core import jobs
from core.db import utcnow
from core.exports import service
from core.exports.models import ExportJob
from core.imports.jobs import as_user, failure_message

log = logging.getLogger("guanxi.exports")


@jobs.task("core.exports.run")
def run_export(session, export_id):
    job = session.execute(select(ExportJob).where(ExportJob.id == export_id)).scalar_one_or_none()
    if job is None or job.status != "queued":
        return None
    gx = current_app.extensions["guanxi"]
    with as_user(session, job.user_id):
        try:
            service.run(session, gx.entities[job.entity], job, current_app.config)
        except Exception as exc:
            session.rollback()
            job = session.execute(select(ExportJob).where(ExportJob.id == export_id)).scalar_one()
            message = str(exc) if isinstance(exc, service.ExportTooLarge) else failure_message(exc)
            job.status, job.message, job.finished_at = "failed", message, utcnow()
            session.commit()
            if not isinstance(exc, service.ExportTooLarge):
                log.exception("export %s failed", export_id)
    return job.status


def cleanup(session):
    """Scheduled daily: old export files and import uploads/error reports leave the disk."""
    return service.cleanup(session, current_app.config)


def scheduled():
    return [jobs.ScheduledJob("core.exports.cleanup", cleanup, crontab={"minute": "17", "hour": "3"})]
