"""Background jobs on a real task queue (Huey): ad-hoc tasks, periodic jobs and the worker.

For module authors::

    from core import jobs

    @jobs.task("mail_blast.send_batch")
    def send_batch(session, campaign_id):          # session: explicit, logged system scope
        ...                                        # committed when the function returns

    jobs.enqueue(app, "mail_blast.send_batch", campaign_id=7)   # -> huey Result

    @hookimpl
    def scheduled_jobs():
        return [jobs.ScheduledJob("rfm.refresh", refresh, crontab=dict(minute="0", hour="3"))]

Each job runs inside ``app.app_context()`` with ``gx.system_session(f"job {name}")`` as first argument; its
return value (or exception) lands in the huey result store, and ``jobs_for(app).last_run(name)`` keeps the
outcome of the latest run. Enqueue after your own transaction committed. ``run_worker(app)`` is the body of
``guanxi worker``.
"""
from __future__ import annotations

from flask import Flask, current_app

from core.jobs.queue import Jobs, UnknownJob, make_huey
from core.jobs.registry import ScheduledJob, registered_tasks, task
from core.jobs.worker import run_worker, start_consumer, wait_until

EXTENSION = "guanxi_jobs"


def init_app(app):
    """Create the app's queue, register imported tasks and every module's ``scheduled_jobs()``."""
    jobs = Jobs(app, make_huey(app.config))
    jobs.sync_tasks()
    gx = app.extensions["guanxi"]
    for contribution in gx.hook.scheduled_jobs():
        for job in contribution or []:
            jobs.add_scheduled(job)
    app.extensions[EXTENSION] = jobs
    gx.jobs = jobs  # lets services holding only ``gx`` enqueue


def jobs_for(app_or_gx=None) -> Jobs:
    """The ``Jobs`` of a Flask app, of a ``core.runtime.Guanxi`` object, or of the current app."""
    target = app_or_gx if app_or_gx is not None else current_app._get_current_object()
    if isinstance(target, Flask):
        return target.extensions[EXTENSION]
    jobs = getattr(target, "jobs", None)
    if jobs is None:
        raise RuntimeError("this Guanxi instance has no job queue (core.jobs.init_app did not run)")
    return jobs


def enqueue(app_or_gx, name: str, **kwargs):
    """Queue the job ``name`` with keyword arguments (picklable values); returns the huey ``Result``."""
    return jobs_for(app_or_gx).enqueue(name, **kwargs)


__all__ = [
    "ScheduledJob", "task", "enqueue", "jobs_for", "init_app", "run_worker", "start_consumer", "wait_until",
    "Jobs", "UnknownJob", "registered_tasks",
]
