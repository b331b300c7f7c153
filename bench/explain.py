"""Capture the SQL a request runs and show the database's plan for it (why is this page slow?)."""
from __future__ import annotations

import contextlib

from sqlalchemy import event


@contextlib.contextmanager
def captured_sql(engine):
    """``with captured_sql(engine) as statements:`` — (sql, parameters) of every statement executed."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def plan(engine, statement, parameters, analyze=True) -> str:
    """SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) — the real timings per node."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(f"    {'  ' * _depth(rows, r)}{r[-1]}" for r in rows)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
        if engine.dialect.name == "mysql":
            prefix = "EXPLAIN ANALYZE " if analyze else "EXPLAIN "
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        return "\n".join(f"    {r[0]}" for r in rows)


def _depth(rows, row):
    """Indentation of an EXPLAIN QUERY PLAN row (id, parent, notused, detail)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


BIG_TABLES = ("customer", "contact", "follow_up")


def entity_selects(statements, tables=BIG_TABLES):
    """The SELECTs that read one of the big ``tables`` (worth explaining on a list or search page);
    the tag loader (``selectin`` by primary key) is left out."""
    for sql, params in statements:
        lowered = sql.lower()
        if not lowered.lstrip().startswith("select") or "customer_tag" in lowered:
            continue
        if any(f"from {table} " in lowered for table in tables):
            yield sql, params
