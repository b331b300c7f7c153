"""Document numbers: ``<prefix>-<year>-<nnnn>`` from a yearly counter per key (table ``number_sequence``).

The counter row is raised by one atomic UPDATE in the caller's transaction; the row lock it takes is held
until that transaction ends, so concurrent creations are serialised and never share a number, and a
rolled-back creation gives its number back. Keys are ``<module>.<entity>`` ("quotes.quote").
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.i18n import _l
from core.models import NumberSequence
from core.scope import system_scope

MAX_SKIPS = 100  # numbers typed by hand that the counter steps over before giving up


def format_number(prefix: str, year: int, value: int, width: int = 4) -> str:
    return f"{prefix}-{year}-{value:0{width}d}"


def next_number(session, key: str, prefix: str, width: int = 4, on: dt.date | None = None,
                taken: Callable[[str], bool] | None = None) -> str:
    """The next free number of ``key`` for the year of ``on`` (default: today in the instance's time zone),
    e.g. ``next_number(session, "quotes.quote", "QT")`` -> ``"QT-2026-0001"``.

    ``taken(number)`` (optional) says whether a number is already used (typed by hand, imported); such
    numbers are stepped over. Raises ``ValidationError({"number": ...})`` if no free number is found.
    """
    year = (on or today()).year
    for _attempt in range(MAX_SKIPS):
        number = format_number(prefix, year, _raise(session, key, year, 1), width)
        if taken is None or not taken(number):
            return number
    raise ValidationError({"number": [str(_l("No free number: please enter one."))]})


def reserve_numbers(session, key: str, prefix: str, count: int, width: int = 4,
                    on: dt.date | None = None) -> list[str]:
    """``count`` consecutive numbers in one UPDATE (bulk imports); no "taken" check."""
    if count <= 0:
        return []
    year = (on or today()).year
    last = _raise(session, key, year, count)
    return [format_number(prefix, year, value, width) for value in range(last - count + 1, last + 1)]


def peek(session, key: str, on: dt.date | None = None) -> int:
    """The last value handed out for ``key`` in the year of ``on`` (0 if none yet)."""
    year = (on or today()).year
    with system_scope(session, "numbering: read counter"), session.no_autoflush:
        value = session.execute(select(NumberSequence.last).where(NumberSequence.key == key,
                                                                  NumberSequence.year == year)
                                .execution_options(populate_existing=True)).scalar()
    return value or 0


def today() -> dt.date:
    """Today's date in the instance's ``TIMEZONE`` (a document made at 01:00 in Shanghai belongs to that day)."""
    import zoneinfo
    from flask import current_app, has_app_context
    zone_name = current_app.config.get("TIMEZONE") if has_app_context() else None
    try:
        zone = zoneinfo.ZoneInfo(zone_name) if zone_name else dt.timezone.utc
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.timezone.utc
    return dt.datetime.now(zone).date()


def _raise(session, key: str, year: int, by: int) -> int:
    _open(session, key, year)
    with system_scope(session, f"numbering: {key}"), session.no_autoflush:
        condition = (NumberSequence.key == key, NumberSequence.year == year)
        raised = session.execute(update(NumberSequence).where(*condition)
                                 .values(last=NumberSequence.last + by)
                                 .execution_options(synchronize_session=False))
        if raised.rowcount != 1:
            raise RuntimeError(f"number counter {key}/{year} vanished")
        return session.execute(select(NumberSequence.last).where(*condition)
                               .execution_options(populate_existing=True)).scalar_one()


def _open(session, key: str, year: int) -> None:
    """Make sure the counter row exists.

    PostgreSQL/MariaDB: insert it in its own short transaction before the caller's transaction locks
    anything, so two "first numbers of the year" never deadlock on inserting it (InnoDB gap locks).
    SQLite has one writer at a time: a second connection would wait for the caller's own write lock, so the
    row is inserted in the caller's transaction (INSERT .. ON CONFLICT DO NOTHING).
    """
    with system_scope(session, f"numbering: {key}"), session.no_autoflush:
        exists = session.execute(select(NumberSequence.year).where(NumberSequence.key == key,
                                                                   NumberSequence.year == year)).first()
        if exists is not None:
            return
        if session.get_bind().dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
            session.execute(insert(NumberSequence).values(key=key, year=year, last=0)
                            .on_conflict_do_nothing())
            return
    from core.runtime import current
    with current().system_session(f"numbering: open {key}/{year}") as other:
        try:
            other.add(NumberSequence(key=key, year=year, last=0))
            other.commit()
        except IntegrityError:
            other.rollback()  # opened by a concurrent transaction meanwhile


__all__ = ["format_number", "next_number", "peek", "reserve_numbers", "today"]
