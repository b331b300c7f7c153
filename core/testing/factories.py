"""Generic record factory for contract tests: a valid row of ANY registered entity, built from its mapped
columns, so a plugin's entity joins the leak matrix with no test code of its own.

Text columns get a unique marker (found again in pages, search results and exports); foreign keys to other
registered entities are satisfied by creating a parent record with the same owner.
"""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text

from core.db import OwnedMixin, UTCDateTime

_counter = itertools.count(1)


def marker() -> str:
    return f"lk{next(_counter):06d}x"


def _value_for(column, mark):
    kind = column.type
    if isinstance(kind, (String, Text)):
        length = getattr(kind, "length", None) or 200
        return mark[:length]
    if isinstance(kind, UTCDateTime) or isinstance(kind, DateTime):
        return dt.datetime.now(dt.timezone.utc)
    if isinstance(kind, Date):
        return dt.date.today()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Numeric):
        return Decimal("1.00")
    if isinstance(kind, Integer):
        return 1
    return None


def make_record(session, spec, owner, registry, mark=None):
    """Insert one row of ``spec.model`` owned by ``owner`` (a User or None); returns (record, marker)."""
    mark = mark or marker()
    model = spec.model
    table = model.__table__
    by_table = {s.model.__table__.name: s for s in registry}
    values = {}
    for column in table.columns:
        if column.primary_key or column.name in ("owner_id", "department_id", "deleted_at", "version"):
            continue
        if column.name in ("custom",):
            values[column.name] = {}
            continue
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None:
            target = by_table.get(foreign.column.table.name)
            if foreign.column.table is table and column.nullable:
                continue  # a nullable link to its own kind (previous revision, renewed contract): leave it empty
            if target is not None and (not column.nullable or target.scoped):
                parent, _ = make_record(session, target, owner, registry)
                values[column.name] = parent.id
            elif foreign.column.table.name == "user_account" and owner is not None and not column.nullable:
                values[column.name] = owner.id
            continue
        if isinstance(column.type, (String, Text)):
            values[column.name] = _value_for(column, mark)
        elif not column.nullable and column.default is None and column.server_default is None:
            values[column.name] = _value_for(column, mark)
    _fit_choices(spec, values)
    record = model(**{key: value for key, value in values.items()
                      if key in model.__mapper__.columns.keys() or hasattr(model, key)})
    if issubclass(model, OwnedMixin) and owner is not None:
        record.owner_id, record.department_id = owner.id, owner.department_id
    session.add(record)
    session.flush()
    return record, mark


def _fit_choices(spec, values):
    """Choice fields (status, kind, ...) must hold a valid choice, not the marker."""
    for field in spec.fields:
        if field.choices and field.name in values:
            values[field.name] = field.choices[0][0]
    schema_fields = spec.schema().fields
    for name, field in schema_fields.items():
        for validator in getattr(field, "validators", []):
            choices = getattr(validator, "choices", None)
            if choices and name in values and values[name] not in choices:
                values[name] = next(c for c in choices if c is not None)
        if name in values and isinstance(values[name], str) and field.__class__.__name__ in ("Email", "OptionalEmail"):
            values[name] = f"{values[name]}@example.com"
        if name in values and isinstance(values[name], str) and field.__class__.__name__ in ("URL", "OptionalURL"):
            values[name] = f"https://{values[name]}.example.com"
