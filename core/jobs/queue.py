"""One Huey queue per app and the wrapper every job runs in.

``QUEUE`` chooses the storage: ``"sqlite"`` (default; ``INSTANCE_PATH/jobs.db``, no extra server),
``"redis"`` (``REDIS_URL``; several workers on several machines) or ``"memory"`` (tests: jobs run at once,
inside ``enqueue``, with no worker). ``QUEUE_NAME`` (default ``"guanxi"``) separates instances sharing
one Redis.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import zoneinfo

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from core.jobs.registry import ScheduledJob, registered_tasks

log = logging.getLogger("guanxi.jobs")

LAST_RUN_KEY = "guanxi.last_run.{name}"


class UnknownJob(LookupError):
    """No ad-hoc task or scheduled job of that name is registered on this app."""


def make_huey(config):
    """The Huey instance for the ``QUEUE`` setting."""
    kind = (config.get("QUEUE") or "sqlite").lower()
    name = config.get("QUEUE_NAME") or "guanxi"
    if kind == "sqlite":
        return SqliteHuey(name, filename=os.path.join(config["INSTANCE_PATH"], "jobs.db"))
    if kind == "redis":
        return RedisHuey(name, url=config["REDIS_URL"])
    if kind == "memory":
        return MemoryHuey(name, immediate=True)
    raise ValueError(f"QUEUE must be sqlite, redis or memory, not {kind!r}")


class Jobs:
    """The app's job queue: its Huey instance plus the tasks and periodic jobs registered on it."""

    def __init__(self, app, huey):
        self.app = app
        self.huey = huey
        self._tasks = {}  # job name -> huey TaskWrapper
        self._lock = threading.Lock()  # request threads may register late tasks concurrently
        self.scheduled: dict[str, ScheduledJob] = {}

    # -- registration (start-up)
    def sync_tasks(self):
        """Register every imported ``@task`` not yet known to this queue (idempotent)."""
        with self._lock:
            for name, function in registered_tasks().items():
                if name not in self._tasks:
                    self._tasks[name] = self.huey.task(name=name)(self._runner(name, function))

    def add_scheduled(self, job: ScheduledJob):
        if job.name in self._tasks:
            raise ValueError(f"job name {job.name!r} is registered twice")
        validate = _crontab_in_zone(job.crontab, self.app.config.get("TIMEZONE") or "UTC")
        self._tasks[job.name] = self.huey.periodic_task(validate, name=job.name)(
            self._runner(job.name, job.function))
        self.scheduled[job.name] = job

    # -- use
    def enqueue(self, name: str, **kwargs):
        """Queue job ``name`` with ``kwargs``; returns the huey ``Result`` (``.get(blocking=True)``).

        Scheduled jobs can be queued too ("run now"); their return value is only kept in ``last_run``.
        """
        if name not in self._tasks:
            self.sync_tasks()  # a module may have been imported after start-up
        wrapper = self._tasks.get(name)
        if wrapper is None:
            raise UnknownJob(f"no job named {name!r}")
        return wrapper(**kwargs)

    def names(self) -> list[str]:
        return sorted(self._tasks)

    def periodic_names(self) -> list[str]:
        """Names of the periodic tasks the consumer's scheduler will run."""
        return sorted(task.name for task in self.huey._registry.periodic_tasks)

    def last_run(self, name: str) -> dict | None:
        """``{"status": "done"|"failed", "started_at", "finished_at", "result"|"error"}`` of the last run."""
        return self.huey.get(LAST_RUN_KEY.format(name=name), peek=True)

    # -- execution (in the worker)
    def _runner(self, name, function):
        app = self.app
        jobs = self

        def run(**kwargs):
            gx = app.extensions["guanxi"]
            started = time.time()
            log.info("job %s started", name)
            try:
                with app.app_context(), gx.system_session(f"job {name}") as session:
                    try:
                        result = function(session, **kwargs)
                        session.commit()
                    except BaseException:
                        session.rollback()
                        raise
            except Exception as exc:
                jobs._record(name, started, status="failed", error=f"{type(exc).__name__}: {exc}")
                log.warning("job %s failed: %r", name, exc)  # huey logs the traceback
                raise
            jobs._record(name, started, status="done", result=_summary(result))
            log.info("job %s done in %.3fs", name, time.time() - started)
            return result

        run.__name__ = run.__qualname__ = f"job_{name}"
        return run

    def _record(self, name, started, **outcome):
        record = {"started_at": _iso(started), "finished_at": _iso(time.time()), **outcome}
        try:
            self.huey.put(LAST_RUN_KEY.format(name=name), record)
        except Exception:  # bookkeeping must never turn a finished job into a failed one
            log.exception("could not record the last run of job %s", name)


def _crontab_in_zone(fields: dict, zone_name: str):
    """A huey ``validate_datetime`` that reads the crontab in the instance's time zone (huey ticks in UTC)."""
    matches = crontab(strict=True, **{k: str(v) for k, v in fields.items()})
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("time zone %r unknown (install tzdata); scheduled jobs use UTC", zone_name)
        zone = dt.timezone.utc

    def validate(timestamp: dt.datetime) -> bool:
        aware = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=dt.timezone.utc)
        return matches(aware.astimezone(zone))
    return validate


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def _summary(result) -> str | None:
    return None if result is None else repr(result)[:500]
