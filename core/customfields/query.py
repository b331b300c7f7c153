"""Custom fields in list queries: filter clauses and sort expressions, from the same expression builder
as the indexes (``indexes.filter_expression``)."""
from __future__ import annotations

from core.customfields import registry
from core.customfields.indexes import filter_expression
from core.customfields.schema import extensible
from core.customfields.types import KEY_PATTERN, all_types


def _resolve(session, spec, key):
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or not extensible(spec):
        return None, None
    fdef = registry.definition(session, spec.name, key)
    if fdef is None:
        return None, None
    from core.runtime import current
    return fdef, all_types(current().pm).get(fdef.type)


def filter_clause(session, spec, key, value):
    """``WHERE`` clause for custom field ``key`` = ``value`` (already typed by ``parse_filter``), or None
    when the key is not an active, filterable custom field of ``spec``."""
    fdef, ftype = _resolve(session, spec, key)
    if ftype is None or not fdef.filterable:
        return None
    expression = filter_expression(spec.model, fdef, ftype, session.get_bind().dialect.name)
    return ftype.filter_clause(expression, value)


def sort_expression(session, spec, key):
    """The expression to order by for custom field ``key``, or None if it cannot be a sort key."""
    fdef, ftype = _resolve(session, spec, key)
    if ftype is None or not ftype.sortable:
        return None
    return filter_expression(spec.model, fdef, ftype, session.get_bind().dialect.name)


def api_filter_fields(session, spec) -> dict:
    """``{key: marshmallow field}`` typing each filterable custom field's query parameter."""
    if not extensible(spec):
        return {}
    from core.runtime import current
    types = all_types(current().pm)
    found = {}
    for fdef in registry.active_definitions(session, spec.name):
        ftype = types.get(fdef.type)
        if ftype is not None and fdef.filterable and ftype.key != "datetime":
            found[fdef.key] = FilterParam(ftype, fdef)
    return found


def api_sort_keys(session, spec) -> list[str]:
    if not extensible(spec):
        return []
    from core.runtime import current
    types = all_types(current().pm)
    return [d.key for d in registry.active_definitions(session, spec.name)
            if d.type in types and types[d.type].sortable]


class FilterParam:
    """Duck-types the marshmallow field the API's parameter parser calls: ``deserialize(raw)``."""

    def __init__(self, ftype, fdef):
        self.ftype, self.fdef = ftype, fdef

    def deserialize(self, raw):
        from marshmallow import ValidationError
        from core.i18n import _l
        try:
            return self.ftype.parse_filter(raw, self.fdef)
        except (ValueError, ArithmeticError):
            raise ValidationError(_l("Invalid value.")) from None
