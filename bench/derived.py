"""Columns other parts of core keep in step with a row (the duplicate keys of ``core.dedupe``).

A bulk load bypasses the ORM and Core defaults, so the generator computes them itself, with the same
functions, when the table has them. Unknown modules or columns are simply skipped.
"""
from __future__ import annotations


def derived_columns(table, columns):
    """``(extra column names, extra(row) -> tuple of values)`` for ``table`` with rows in ``columns`` order."""
    try:
        from core.dedupe.keys import KEY_SOURCES, first_key
    except ImportError:
        return (), None
    wanted = []
    for key_column, (normaliser, sources) in KEY_SOURCES.get(table.name, {}).items():
        if key_column in table.c and all(name in columns for name in sources):
            wanted.append((key_column, normaliser, [columns.index(name) for name in sources]))
    if not wanted:
        return (), None

    def extra(row):
        return tuple(first_key(normaliser, [row[i] for i in positions]) for _col, normaliser, positions in wanted)

    return tuple(col for col, _n, _p in wanted), extra
