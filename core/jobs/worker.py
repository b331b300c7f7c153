"""Running the queue: the ``guanxi worker`` process and an in-process consumer for tests and embedding.

Scale-out (``QUEUE=redis``): start as many ``guanxi worker`` processes as needed, on any machine, but let
exactly one of them run the periodic scheduler (``periodic=True``); the others pass ``periodic=False``,
otherwise every scheduler would queue each periodic job once.
"""
from __future__ import annotations

import logging
import time

from huey.consumer import Consumer

WORKER_DEFAULTS = {"worker_type": "thread", "check_worker_health": True}


class BackgroundConsumer(Consumer):
    """A consumer that leaves the host process's signal handlers alone (it runs beside other code)."""

    def _set_signal_handlers(self):
        pass


def _queue_for_worker(app):
    from core.jobs import jobs_for

    jobs = jobs_for(app)
    if jobs.huey.immediate:
        raise RuntimeError('QUEUE="memory" runs jobs inside enqueue(); a worker needs QUEUE="sqlite" or "redis"')
    jobs.sync_tasks()
    return jobs


def run_worker(app, workers=2, periodic=True, **options):
    """Run the consumer in the foreground until SIGINT/SIGTERM (``guanxi worker``)."""
    jobs = _queue_for_worker(app)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    consumer = jobs.huey.create_consumer(workers=workers, periodic=periodic, **{**WORKER_DEFAULTS, **options})
    consumer.run()


def start_consumer(app, workers=1, periodic=True, **options) -> BackgroundConsumer:
    """Start a consumer on background threads and return it; stop it with ``consumer.stop(graceful=True)``.

    Used by the test suite to run jobs through a real queue, and by embedders without a separate worker.
    """
    jobs = _queue_for_worker(app)
    settings = {**WORKER_DEFAULTS, "initial_delay": 0.05, "max_delay": 0.5, **options}
    consumer = BackgroundConsumer(jobs.huey, workers=workers, periodic=periodic, **settings)
    consumer.start()
    return consumer


def wait_until(predicate, timeout=15.0, interval=0.05) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds pass (tests waiting on a worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
