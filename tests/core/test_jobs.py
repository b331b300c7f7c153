"""The job queue runs jobs for real: a Huey consumer on background threads over SQLite and over Redis,
periodic jobs from ``scheduled_jobs()``, results and failures recorded, and the system scope in force."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.exceptions import TaskException
from sqlalchemy import select

from core import jobs
from core.models import Customer, Setting
from core.scope import current_scope
from hooks import hookimpl

RESULT_TIMEOUT = 20


@jobs.task("tests.write_setting")
def write_setting(session, key, value):
    """Writes a Setting row and reports what the session's scope was (a job runs under a system scope)."""
    session.add(Setting(key=key, value={"value": value}))
    return {"key": key, "scope": current_scope(session).describe()}


@jobs.task("tests.fail_after_write")
def fail_after_write(session, key):
    session.add(Setting(key=key, value={}))
    session.flush()
    raise ValueError("the job broke on purpose")


@jobs.task("tests.count_customers")
def count_customers(session):
    return len(session.execute(select(Customer)).scalars().all())


def nightly_summary(session):
    session.add(Setting(key="tests.nightly", value={"ran": True}))
    return "summary written"


class SchedulingPlugin:
    @hookimpl
    def scheduled_jobs(self):
        return [jobs.ScheduledJob("tests.nightly_summary", nightly_summary, crontab=dict(minute="30", hour="2"))]


def setting(gx, key):
    with gx.system_session("test: read setting") as session:
        row = session.execute(select(Setting).where(Setting.key == key)).scalar_one_or_none()
        return None if row is None else row.value


def redis_queue_config():
    """Settings for a Redis queue on 127.0.0.1:6379 with a name unique to this run, or skip."""
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url}: {exc}")
    return {"QUEUE": "redis", "REDIS_URL": url, "QUEUE_NAME": f"guanxi-test-{uuid.uuid4().hex[:12]}"}


# ---------------------------------------------------------------------------------------------- SQLite

def test_sqlite_queue_is_the_embedded_default_file(app_with, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    huey = jobs.jobs_for(app).huey
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(tmp_path / "jobs.db")
    assert (tmp_path / "jobs.db").exists()


def test_sqlite_job_runs_in_a_real_consumer_under_system_scope(app_with, consumer_for, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    key = f"tests.sqlite.{uuid.uuid4().hex[:8]}"
    result = jobs.enqueue(app, "tests.write_setting", key=key, value=42)
    assert setting(app.extensions["guanxi"], key) is None  # queued, not run inline

    consumer_for(app)
    outcome = result.get(blocking=True, timeout=RESULT_TIMEOUT)

    assert outcome == {"key": key, "scope": "system (job tests.write_setting)"}
    assert setting(app.extensions["guanxi"], key) == {"value": 42}
    last = jobs.jobs_for(app).last_run("tests.write_setting")
    assert last["status"] == "done" and key in last["result"]


def test_failed_job_records_the_exception_and_rolls_back(app_with, consumer_for, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    key = f"tests.fail.{uuid.uuid4().hex[:8]}"
    consumer_for(app, workers=1)
    result = jobs.enqueue(app, "tests.fail_after_write", key=key)

    with pytest.raises(TaskException) as caught:
        result.get(blocking=True, timeout=RESULT_TIMEOUT)

    assert "the job broke on purpose" in str(caught.value.metadata.get("error"))
    assert setting(app.extensions["guanxi"], key) is None
    last = jobs.jobs_for(app).last_run("tests.fail_after_write")
    assert last["status"] == "failed" and "ValueError: the job broke on purpose" == last["error"]


def test_jobs_see_every_owner_system_scope(app_with, consumer_for, org, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    gx = app.extensions["guanxi"]
    with gx.system_session("test: customers of two reps") as session:
        session.add_all([Customer(name=f"{rep.login} Co", owner_id=rep.id, department_id=rep.department_id)
                         for rep in (org.rep_east, org.rep_west)])
        session.commit()
    consumer_for(app, workers=1)
    assert jobs.enqueue(app, "tests.count_customers").get(blocking=True, timeout=RESULT_TIMEOUT) == 2


# ---------------------------------------------------------------------------------------------- periodic

def test_scheduled_job_is_registered_with_its_crontab_in_the_instance_time_zone(register_plugin, tmp_path):
    app = register_plugin(SchedulingPlugin(), name="scheduling", QUEUE="sqlite", INSTANCE_PATH=str(tmp_path),
                          TIMEZONE="Asia/Shanghai")
    queue = jobs.jobs_for(app)
    assert "tests.nightly_summary" in queue.periodic_names()
    assert queue.scheduled["tests.nightly_summary"].function is nightly_summary

    # huey ticks in naive UTC: 02:30 in Shanghai is 18:30 UTC the day before
    due = [task.name for task in queue.huey.read_periodic(dt.datetime(2024, 5, 1, 18, 30))]
    not_due = [task.name for task in queue.huey.read_periodic(dt.datetime(2024, 5, 1, 2, 30))]
    assert "tests.nightly_summary" in due
    assert "tests.nightly_summary" not in not_due


def test_scheduled_job_runs_through_the_consumer(register_plugin, consumer_for, tmp_path):
    app = register_plugin(SchedulingPlugin(), name="scheduling", QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    queue = jobs.jobs_for(app)
    consumer_for(app, workers=1)

    jobs.enqueue(app, "tests.nightly_summary")  # "run now": the same periodic task the scheduler queues

    assert jobs.wait_until(lambda: queue.last_run("tests.nightly_summary") is not None, timeout=RESULT_TIMEOUT)
    assert queue.last_run("tests.nightly_summary")["status"] == "done"
    assert setting(app.extensions["guanxi"], "tests.nightly") == {"ran": True}


def test_bad_crontab_stops_start_up():
    with pytest.raises(ValueError, match="unknown crontab key"):
        jobs.ScheduledJob("tests.bad", nightly_summary, crontab={"minutes": "5"})


# ---------------------------------------------------------------------------------------------- Redis

def test_redis_queue_runs_jobs_across_several_workers(app_with, consumer_for):
    config = redis_queue_config()
    app = app_with(**config)
    queue = jobs.jobs_for(app)
    try:
        assert isinstance(queue.huey, RedisHuey) and queue.huey.name == config["QUEUE_NAME"]
        # two consumers (as two worker processes would), only one running the periodic scheduler
        consumer_for(app, workers=2)
        consumer_for(app, workers=1, periodic=False)
        keys = [f"tests.redis.{uuid.uuid4().hex[:8]}" for _ in range(6)]
        results = [jobs.enqueue(app, "tests.write_setting", key=key, value=i) for i, key in enumerate(keys)]

        outcomes = [r.get(blocking=True, timeout=RESULT_TIMEOUT) for r in results]

        assert [o["key"] for o in outcomes] == keys
        assert [setting(app.extensions["guanxi"], key) for key in keys] == [{"value": i} for i in range(6)]
    finally:
        queue.huey.flush()


# ---------------------------------------------------------------------------------------------- memory

def test_memory_queue_runs_jobs_immediately_without_a_worker(app):
    queue = jobs.jobs_for(app)
    assert isinstance(queue.huey, MemoryHuey) and queue.huey.immediate
    key = f"tests.memory.{uuid.uuid4().hex[:8]}"

    result = jobs.enqueue(app.extensions["guanxi"], "tests.write_setting", key=key, value="x")

    assert setting(app.extensions["guanxi"], key) == {"value": "x"}
    assert result.get()["key"] == key
    with pytest.raises(RuntimeError, match="a worker needs"):
        jobs.start_consumer(app)


def test_unknown_job_name_is_an_error(app):
    with pytest.raises(jobs.UnknownJob, match="no job named 'tests.nope'"):
        jobs.enqueue(app, "tests.nope")


def test_a_task_name_cannot_be_taken_twice():
    with pytest.raises(ValueError, match="already registered"):
        jobs.task("tests.write_setting")(lambda session: None)
