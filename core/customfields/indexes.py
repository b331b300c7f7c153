"""Expression indexes on custom fields — the one justified place for DDL outside migrations.

The indexed expression comes from the field type's ``expression()``, the very function the list filters and
sorting use, so a filter on an indexed field can use its index:

* SQLite: ``CREATE INDEX ... ON t (json_extract(custom, '$.cf_x'))``
* PostgreSQL: ``CREATE INDEX ... ON t ((custom ->> 'cf_x'))`` (cast for numbers)
* MariaDB has no functional index: a VIRTUAL generated column ``<key>_x`` computed by the same expression,
  plus an ordinary index on it; filters then name that column (``filter_expression``).

Names and expressions are built from the server slug (checked against ``^cf_[a-z0-9]+$``) and the table
name, never from anything an administrator typed. MariaDB commits implicitly around DDL: callers commit
their own changes first.
"""
from __future__ import annotations

import hashlib
import logging

from sqlalchemy import Column, Computed, Index, inspect, literal_column, type_coerce
from sqlalchemy.schema import CreateIndex

from core.customfields.types import check_key

log = logging.getLogger("guanxi.customfields")
MAX_NAME = 60


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def _short(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    return name[: MAX_NAME - 9] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]


def index_name(model, key: str) -> str:
    return _short(f"ixcf_{model.__table__.name}_{check_key(key)}")


def generated_column_name(key: str) -> str:
    return f"{check_key(key)}_x"


def is_mariadb(dialect: str) -> bool:
    return dialect in ("mysql", "mariadb")


def filter_expression(model, fdef, ftype, dialect):
    """The expression filters and sorting use: the type's expression, or on MariaDB the generated column
    that holds exactly that expression when the field is indexed."""
    if is_mariadb(dialect) and fdef.indexed and fdef.active and ftype.indexable:
        column = literal_column(f"{model.__table__.name}.{generated_column_name(fdef.key)}")
        return type_coerce(column, ftype.generated_column_type())
    return ftype.expression(model, fdef.key, dialect)


def _index(model, name, expression):
    """An ``Index`` object for DDL only, detached again from the mapped table so that the models' metadata
    (``create_all``, migrations) never learns about it."""
    index = Index(name, expression)
    model.__table__.indexes.discard(index)
    return index


def create_index(session, model, fdef, ftype):
    """Create the index of ``fdef`` (idempotent: ``IF NOT EXISTS``)."""
    connection = session.connection()
    dialect = _dialect(session)
    name = index_name(model, fdef.key)
    if is_mariadb(dialect):
        _create_generated_column(connection, model, fdef, ftype)
        _operations(connection).create_index(name, model.__table__.name, [generated_column_name(fdef.key)],
                                             if_not_exists=True)
    else:
        connection.execute(CreateIndex(_index(model, name, ftype.expression(model, fdef.key, dialect)),
                                       if_not_exists=True))
    log.info("custom field index %s created", name)


def drop_index(session, model, fdef):
    """Drop the index (and MariaDB's generated column) of ``fdef`` if present; values stay in ``custom``."""
    connection = session.connection()
    table = model.__table__
    name = index_name(model, fdef.key)
    ops = _operations(connection)
    ops.drop_index(name, table_name=table.name, if_exists=True)
    if is_mariadb(_dialect(session)):
        column = generated_column_name(fdef.key)
        if column in {c["name"] for c in inspect(connection).get_columns(table.name)}:
            ops.drop_column(table.name, column)
    log.info("custom field index %s dropped", name)


def _create_generated_column(connection, model, fdef, ftype):
    column = generated_column_name(fdef.key)
    table = model.__table__
    if column in {c["name"] for c in inspect(connection).get_columns(table.name)}:
        return
    expression = ftype.expression(model, fdef.key, connection.dialect.name)
    sql = expression.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    # the generated column's expression may not name the table: it is compiled without it
    text = str(sql).replace(f"{table.name}.custom", "custom")
    _operations(connection).add_column(table.name, Column(column, ftype.generated_column_type(),
                                                          Computed(text, persisted=False), nullable=True))


def _operations(connection):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    return Operations(MigrationContext.configure(connection))

