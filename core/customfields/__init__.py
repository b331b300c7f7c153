"""Module builder: custom fields without code (DESIGN.md §4).

Public API for the rest of Guanxi:

* ``schema_for(spec, scope, partial=False)`` — the entity schema with its active custom fields, without the
  fields hidden from ``scope``; every form, API body, import and export obtains its schema here.
* ``export_columns(spec, scope)`` — ``[(key, label, getter)]`` of the active custom fields for exports;
  ``getter(record)`` returns the display text.
* ``searchable_keys(spec)`` — keys of active text-like custom fields (global search).
* ``definitions(spec)`` — the active definitions (read-only snapshots).
* ``filter_clause`` / ``sort_expression`` — list queries (``core.customfields.query``).

Tables: ``custom_field_def``; values live in each record's ``custom`` JSON column.
"""
from __future__ import annotations

from core.customfields import registry
from core.customfields.query import filter_clause, sort_expression
from core.customfields.schema import extensible, request_session, schema_for
from core.customfields.types import FieldType, all_types


def definitions(spec, session=None, include_inactive=False):
    """The entity's custom field definitions in display order (active only unless asked)."""
    if not extensible(spec):
        return ()
    session = session if session is not None else request_session()
    found = registry.all_definitions(session, spec.name)
    return found if include_inactive else tuple(d for d in found if d.active)


def _types():
    from core.runtime import current
    return all_types(current().pm)


def export_columns(spec, scope=None, session=None, language=None):
    """``[(key, label, getter)]`` for every active custom field; ``getter(record)`` -> display text
    (option labels, Yes/No, local date-times; references as their id)."""
    from core.customfields.display import language as current_language
    lang = language or current_language()
    types = _types()
    columns = []
    for fdef in definitions(spec, session):
        ftype = types.get(fdef.type)
        if ftype is None:
            continue

        def getter(record, _fdef=fdef, _ftype=ftype):
            value = (getattr(record, "custom", None) or {}).get(_fdef.key)
            return _ftype.format(value, _fdef, lang, None)
        columns.append((fdef.key, fdef.label(lang), getter))
    return columns


def searchable_keys(spec, session=None) -> list[str]:
    """Keys of the active custom fields whose type is text-like (text, long text, e-mail, phone)."""
    types = _types()
    return [d.key for d in definitions(spec, session) if d.type in types and types[d.type].searchable]


__all__ = ["schema_for", "export_columns", "searchable_keys", "definitions", "filter_clause",
           "sort_expression", "FieldType", "extensible"]
