"""A lean Core ``insert()`` executemany for import batches.

``session.execute(insert(table), rows)`` spends most of its time per row inside SQLAlchemy: it rebuilds the
parameter dict of every row against the compiled statement and runs each column's bind processor on each
value, even when a whole batch shares one value (the batch's timestamp). Here the statement is compiled
once per batch and each column's own bind processor runs once per *distinct object* in a run (so
``now`` is formatted once); the converted values then go through an ``insert()`` of an untyped copy of
the table, in the session's connection and transaction. SQLite only: on PostgreSQL the typed binds
render casts (JSONB) and psycopg pipelines the plain executemany anyway.
"""
from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, insert
from sqlalchemy.types import NullType

_UNSET = object()
_UNTYPED: dict = {}


def executemany(session, table, rows: list[dict]) -> None:
    """INSERT ``rows`` (dicts with the same keys, named after ``table``'s columns) into ``table``."""
    if not rows:
        return
    try:
        _executemany(session, table, rows)
    except _NeedsSQLAlchemy:
        session.execute(insert(table), rows)


def _executemany(session, table, rows):
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        # With RETURNING, SQLAlchemy sends pages of 1,000 rows per INSERT ("insertmanyvalues"); without it
        # psycopg pipelines one INSERT per row, each parsed and planned by the server (no prepared
        # statements, see core.db) — several times the server time.
        primary_key = list(table.primary_key.columns)[:1] or list(table.columns)[:1]
        session.execute(insert(table).returning(*primary_key), rows).all()
        return
    if dialect.name != "sqlite":  # typed binds matter there: the dialect's own executemany
        session.execute(insert(table), rows)
        return
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    absent = [name for name in compiled.positiontup if name not in rows[0]]
    if absent:  # columns with a Python-side default that SQLAlchemy would fill per row: fill them here
        rows = [_with_defaults(table, row, absent) for row in rows]
        keys += absent
    processors = [table.c[key].type._cached_bind_processor(dialect) for key in keys]
    columns = [_convert([row[key] for row in rows], processor) for key, processor in zip(keys, processors)]
    session.execute(insert(_untyped(table, keys)), [dict(zip(keys, values)) for values in zip(*columns)])


def _untyped(table, keys):
    """``table``'s name with untyped columns ``keys``: values arrive already converted (``_convert``)."""
    cache_key = (table.name, table.schema, tuple(keys))
    found = _UNTYPED.get(cache_key)
    if found is None:
        found = _UNTYPED[cache_key] = Table(table.name, MetaData(), *[Column(k, NullType()) for k in keys],
                                            schema=table.schema)
    return found


class _Context:
    """What a context-sensitive column default reads (``get_current_parameters``)."""

    def __init__(self, row):
        self.row = row

    def get_current_parameters(self, isolate_multiinsert_groups=True):
        return self.row

    @property
    def current_parameters(self):
        return self.row


def _with_defaults(table, row, names) -> dict:
    row = dict(row)
    for name in names:
        default = table.c[name].default
        if default is None:
            row[name] = None
        elif getattr(default, "is_scalar", False):
            row[name] = default.arg
        elif getattr(default, "is_callable", False):
            row[name] = default.arg(_Context(row))
        else:  # a SQL expression default: let SQLAlchemy's own path handle it
            raise _NeedsSQLAlchemy
    return row


class _NeedsSQLAlchemy(Exception):
    pass


def _convert(values: list, processor) -> list:
    if processor is None:
        return values
    result, last_in, last_out = [], _UNSET, None
    for value in values:
        if value is not last_in:
            last_in, last_out = value, processor(value)
        result.append(last_out)
    return result
