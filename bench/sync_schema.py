"""Bring a BENCH database up to the current models without regenerating its million rows.

    python bench/sync_schema.py --url sqlite [--dry-run]

While core is being developed the models can move ahead of the migrations (a new column, a new table);
a bench database generated an hour ago then makes the pages fail. This adds what is missing — tables
(``create_all``), columns (``ALTER TABLE ... ADD COLUMN``, always nullable here) and named indexes — and
changes nothing else. Bench databases only: real installations upgrade through migrations.
"""
from __future__ import annotations

import argparse
import sys

from sqlalchemy import inspect, text

import common


def missing(engine, metadata):
    """(tables, [(table, column)], [index]) that the models have and the database lacks."""
    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    tables, columns, indexes = [], [], []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            tables.append(table)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        columns += [(table, column) for column in table.columns if column.name not in have]
        have_ix = {ix["name"] for ix in inspector.get_indexes(table.name)}
        indexes += [ix for ix in table.indexes if ix.name and ix.name not in have_ix]
    return tables, columns, indexes


def add_column_sql(engine, table, column) -> str:
    """``ALTER TABLE t ADD COLUMN <name> <type>`` without NOT NULL, defaults or constraints."""
    name = engine.dialect.identifier_preparer.quote(column.name)
    return f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(dialect=engine.dialect)}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite")
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
    from core.db import Base

    engine = common.make_runtime(common.resolve_url(args.url)).engine
    tables, columns, indexes = missing(engine, Base.metadata)
    statements = [f"CREATE TABLE {t.name} (from the model)" for t in tables]
    statements += [add_column_sql(engine, t, c) for t, c in columns]
    statements += [f"CREATE INDEX {ix.name} (from the model)" for ix in indexes if ix.table not in tables]
    if not statements:
        print("schema is in step with the models")
        return
    for statement in statements:
        print(("would run: " if args.dry_run else "") + statement)
    if args.dry_run:
        return
    with engine.begin() as conn:
        Base.metadata.create_all(conn, tables=tables)
        for table, column in columns:
            conn.execute(text(add_column_sql(engine, table, column)))
        for ix in indexes:
            if ix.table not in tables:
                ix.create(conn)
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
