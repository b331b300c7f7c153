"""Try the index changes proposed in bench/README.md on a BENCH database, then undo them.

    python bench/proposed_indexes.py --url pg apply      # then run timings.py again
    python bench/proposed_indexes.py --url pg revert     # back to the schema of the models

What ``apply`` does (customer, contact and follow_up):

1. a partial ``ix_<table>_deleted (deleted_at) WHERE deleted_at IS NOT NULL`` for the recycle bin (the
   plain ``deleted_at`` index was removed from the models because it misled SQLite's planner; without any
   index the recycle bin scans every row);
2. replaces ``(owner_id, id)`` and ``(department_id, id)`` with the same indexes ``WHERE deleted_at IS NULL``
   so that the capped count of a scoped list can be an index-only scan;
3. PostgreSQL only: ``pg_trgm`` GIN indexes on the search fields, so that ``ILIKE '%term%'`` (3+ characters)
   uses an index — the SQL the services emit does not change.

``revert`` drops these and recreates whatever index the models define that is missing.

SQLite's FTS5 trigram search needs a query change in ``services.list_query`` and is measured with raw SQL
in the README instead. Never run this against a real installation: schema changes go through migrations.
"""
from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy import inspect, text

import common

TABLES = ("customer", "contact", "follow_up")
TRIGRAM_FIELDS = {"customer": ("name", "phone", "email", "code"), "contact": ("name", "mobile", "phone", "email"),
                  "follow_up": ("content",)}


def apply(conn, dialect):
    for table in TABLES:
        _run(conn, f"DROP INDEX IF EXISTS ix_{table}_deleted_at")
        _run(conn, f"CREATE INDEX IF NOT EXISTS ix_{table}_deleted ON {table} (deleted_at) "
                   "WHERE deleted_at IS NOT NULL")
        for column in ("owner_id", "department_id"):
            _run(conn, f"DROP INDEX IF EXISTS ix_{table}_{column}_id")
            _run(conn, f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_id_live ON {table} ({column}, id) "
                       "WHERE deleted_at IS NULL")
    if dialect == "postgresql":
        _run(conn, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, fields in TRIGRAM_FIELDS.items():
            for field in fields:
                _run(conn, f"CREATE INDEX IF NOT EXISTS ix_{table}_{field}_trgm ON {table} "
                           f"USING gin ({field} gin_trgm_ops)")
    _run(conn, "ANALYZE")


def revert(conn, dialect):
    from core.db import Base
    from sync_schema import missing

    for table in TABLES:
        _run(conn, f"DROP INDEX IF EXISTS ix_{table}_deleted")
        for column in ("owner_id", "department_id"):
            _run(conn, f"DROP INDEX IF EXISTS ix_{table}_{column}_id_live")
        if dialect == "postgresql":
            for field in TRIGRAM_FIELDS[table]:
                _run(conn, f"DROP INDEX IF EXISTS ix_{table}_{field}_trgm")
    _tables, _columns, indexes = missing(conn, Base.metadata)
    for ix in indexes:
        start = time.perf_counter()
        ix.create(conn)
        print(f"  {time.perf_counter() - start:6.2f} s  CREATE INDEX {ix.name} (from the model)", flush=True)
    _run(conn, "ANALYZE")


def _run(conn, sql):
    start = time.perf_counter()
    conn.execute(text(sql))
    print(f"  {time.perf_counter() - start:6.2f} s  {sql}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite")
    p.add_argument("action", choices=("apply", "revert"))
    args = p.parse_args(argv)
    engine = common.make_runtime(common.resolve_url(args.url)).engine
    if "customer" not in inspect(engine).get_table_names():
        raise SystemExit("no customer table: run bench/generate.py first")
    with engine.begin() as conn:
        (apply if args.action == "apply" else revert)(conn, engine.dialect.name)
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
