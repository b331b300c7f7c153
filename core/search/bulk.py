"""Writing many index rows at once.

An import adds ~30 tokens per record: 3 million rows for a 100,000-row file. ``insert()`` with a list of
parameter dicts costs SQLAlchemy several microseconds per row (each row's parameters are rebuilt against the
compiled statement) and, on PostgreSQL and MariaDB, one parsed statement per row or per small page. Here a
page of records' tokens travels as one or two bound values that the database unpacks itself, still as a Core
``INSERT … SELECT`` (no SQL text), sorted by the database (``ORDER BY``, in C) so each page of the clustered
key is touched once per statement rather than once per row:

* SQLite: ``[[record_id, [token, …]], …]`` as JSON, unpacked by ``json_each`` (built into SQLite ≥ 3.38);
* PostgreSQL: two parallel arrays (tokens, record ids), unpacked by ``unnest``;
* MariaDB/MySQL: the same JSON as SQLite, unpacked by ``JSON_TABLE`` (MariaDB ≥ 10.6, MySQL ≥ 8);
* anything else: a plain executemany.
"""
from __future__ import annotations

import itertools
import json

from sqlalchemy import Integer, String, bindparam, func, insert, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import TableClause, column

PAGE = 50_000  # tokens per statement (about a megabyte of parameter text)
COLUMNS = ["entity", "token", "record_id"]


def insert_tokens(connection, table, entity: str, tokens: dict) -> None:
    """INSERT the ``{record_id: tokens}`` of ``entity`` into ``table`` (search_token or its staging copy)."""
    writer = _WRITERS.get(connection.dialect.name, _plain)
    for page in _pages(tokens):
        writer(connection, table, entity, page)


def _pages(tokens: dict):
    page, size = [], 0
    for record_id, found in tokens.items():
        if not found:
            continue
        page.append((record_id, found))
        size += len(found)
        if size >= PAGE:
            yield page
            page, size = [], 0
    if page:
        yield page


def _plain(connection, table, entity, page):
    rows = sorted((token, record_id) for record_id, found in page for token in found)
    connection.execute(insert(table), [{"entity": entity, "token": t, "record_id": r} for t, r in rows])


def _json(page) -> str:
    return json.dumps([[record_id, list(found)] for record_id, found in page], ensure_ascii=False)


def _sqlite(connection, table, entity, page):
    records = func.json_each(bindparam("tokens", _json(page), type_=String)).table_valued("value").alias("r")
    each = func.json_each(records.c.value, "$[1]").table_valued("value").alias("t")
    record_id = func.json_extract(records.c.value, "$[0]")
    source = (select(literal(entity, String), each.c.value, record_id).select_from(records)
              .join(each, true()).order_by(each.c.value, record_id))
    connection.execute(insert(table).from_select(COLUMNS, source))


def _postgresql(connection, table, entity, page):
    tokens = list(itertools.chain.from_iterable(found for _record_id, found in page))
    ids = list(itertools.chain.from_iterable(itertools.repeat(record_id, len(found)) for record_id, found in page))
    pairs = select(func.unnest(bindparam("tokens", tokens, type_=ARRAY(String))).label("token"),
                   func.unnest(bindparam("ids", ids, type_=ARRAY(Integer))).label("record_id")).subquery()
    source = select(literal(entity, String), pairs.c.token, pairs.c.record_id).order_by(pairs.c.token,
                                                                                        pairs.c.record_id)
    connection.execute(insert(table).from_select(COLUMNS, source))


class _JsonTable(TableClause):
    """``JSON_TABLE(:document, '$[*]' COLUMNS (record_id …, NESTED PATH '$[1][*]' COLUMNS (token …)))`` (MariaDB,
    MySQL): one row per token of ``[[record_id, [token, …]], …]``."""

    inherit_cache = False

    def __init__(self, document, token_type: str):
        super().__init__("tokens", column("token", String), column("record_id", Integer))
        self.document = document
        self.token_type = token_type


@compiles(_JsonTable)
def _compile_json_table(element, compiler, **kw):
    document = compiler.process(element.document, **kw)
    return (f"JSON_TABLE({document}, '$[*]' COLUMNS (record_id INT PATH '$[0]', NESTED PATH '$[1][*]' "
            f"COLUMNS (token {element.token_type} PATH '$'))) AS tokens")


def _mysql(connection, table, entity, page):
    token_type = table.c.token.type.compile(dialect=connection.dialect)
    tokens = _JsonTable(bindparam("tokens", _json(page), type_=String), token_type)
    source = (select(literal(entity, String), tokens.c.token, tokens.c.record_id).select_from(tokens)
              .order_by(tokens.c.token, tokens.c.record_id))
    connection.execute(insert(table).from_select(COLUMNS, source))


_WRITERS = {"sqlite": _sqlite, "postgresql": _postgresql, "mysql": _mysql, "mariadb": _mysql}
