"""What a column can hold on every supported database, checked before the database is asked.

SQLite raises ``OverflowError`` past 64-bit integers, PostgreSQL refuses past ``integer``/``numeric(p, s)``
and MariaDB may truncate: the API answers all of these with a field message (422/400/404), never a 500.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Numeric, String

from core.i18n import _l

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _column(model, name):
    return model.__table__.c.get(name)


def int_limit(model, name: str) -> int:
    """Largest value the integer column ``name`` holds everywhere (``Integer`` is 32-bit on PostgreSQL)."""
    column = _column(model, name)
    if column is not None and isinstance(column.type, BigInteger):
        return INT64_MAX
    return INT32_MAX


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def int_fits(model, name: str, value) -> bool:
    return not is_int(value) or abs(value) <= int_limit(model, name)


def problem(model, name: str, value):
    """A message when ``value`` cannot be stored in column ``name`` of ``model``, else None."""
    if is_int(value):
        return None if int_fits(model, name, value) else _l("Number too large.")
    column = _column(model, name)
    if column is None or value is None:
        return None
    kind = column.type
    if isinstance(value, Decimal) and isinstance(kind, Numeric) and kind.precision:
        digits = kind.precision - (kind.scale or 0)
        return None if value.is_finite() and abs(value) < Decimal(10) ** digits else _l("Number too large.")
    if isinstance(value, str) and "\x00" in value:
        return _l("Invalid value.")
    if isinstance(value, str) and isinstance(kind, String) and kind.length and len(value) > kind.length:
        return _l("At most {max} characters.").format(max=kind.length)
    return None


def problems(model, data: dict) -> dict:
    """``{field: [message]}`` for every value of ``data`` its column cannot hold."""
    found = {name: problem(model, name, value) for name, value in data.items()}
    return {name: [message] for name, message in found.items() if message is not None}
