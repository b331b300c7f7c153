"""Bulk writers of bench rows, one per database family.

* SQLite: the driver's ``executemany`` with values pre-formatted exactly as SQLAlchemy stores them.
* PostgreSQL: ``COPY ... FROM STDIN`` through psycopg's ``cursor.copy``.
* Anything else (MariaDB): SQLAlchemy Core ``insert()`` executemany.

Each ``write`` runs inside the caller's transaction (one transaction per batch).
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


class SqliteWriter:
    def __init__(self, conn):
        self.conn = conn

    def write(self, table, columns, rows):
        if not rows:
            return
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.conn.exec_driver_sql(sql, [tuple(map(_sqlite_value, row)) for row in rows])


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        return value.strftime(SQLITE_DATETIME)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class PostgresCopyWriter:
    def __init__(self, conn):
        self.conn = conn

    def write(self, table, columns, rows):
        if not rows:
            return
        cursor = self.conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()


class CoreWriter:
    """Portable fallback: Core ``insert()`` with a list of dicts (executemany)."""

    def __init__(self, conn):
        self.conn = conn

    def write(self, table, columns, rows):
        if not rows:
            return
        self.conn.execute(insert(table), [dict(zip(columns, map(_core_value, row))) for row in rows])


def _core_value(value):
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc)  # UTCDateTime wants aware datetimes
    if value == "{}":
        return json.loads(value)
    return value


def writer_for(conn):
    name = conn.dialect.name
    if name == "sqlite":
        return SqliteWriter(conn)
    if name == "postgresql":
        return PostgresCopyWriter(conn)
    return CoreWriter(conn)
