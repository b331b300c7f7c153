"""What modules declare: ad-hoc tasks (``@task(name)``) and periodic jobs (``ScheduledJob``).

Both are plain functions whose first argument is a session under an explicit, logged system scope
(``gx.system_session(f"job {name}")``); ad-hoc tasks also take the keyword arguments given to ``enqueue``.
The registry is process-wide: a module's tasks are known once its code is imported, which happens only for
modules that are enabled (blocked modules are never imported).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

CRONTAB_KEYS = frozenset({"minute", "hour", "day", "month", "day_of_week"})

_TASKS: dict[str, Callable] = {}


@dataclass
class ScheduledJob:
    """A periodic job returned by the ``scheduled_jobs()`` hook.

    ``function(session)`` runs in the worker under a system scope; ``crontab`` holds huey crontab keywords
    (``minute``, ``hour``, ``day``, ``month``, ``day_of_week``, each like ``"0"``, ``"*/15"``, ``"1-5"``),
    read in the instance's ``TIMEZONE``. Missing keys mean "every".
    """

    name: str
    function: Callable
    crontab: dict = field(default_factory=dict)

    def __post_init__(self):
        unknown = set(self.crontab) - CRONTAB_KEYS
        if unknown:
            raise ValueError(f"scheduled job {self.name!r}: unknown crontab key(s) {sorted(unknown)}")


def task(name: str):
    """Register ``function(session, **kwargs)`` as the ad-hoc job ``name`` (enqueue it with ``enqueue``).

    Names are global; use ``<module>.<what>`` (``"mail_blast.send_batch"``). Registering another function
    under a taken name is an error; re-importing the same function is not.
    """
    def decorator(function):
        existing = _TASKS.get(name)
        if existing is not None and _qualified(existing) != _qualified(function):
            raise ValueError(f"job {name!r} is already registered by {_qualified(existing)}")
        _TASKS[name] = function
        return function
    return decorator


def registered_tasks() -> dict[str, Callable]:
    """A copy of the name -> function map of every ad-hoc task imported so far."""
    return dict(_TASKS)


def _qualified(function) -> str:
    return f"{function.__module__}.{function.__qualname__}"
