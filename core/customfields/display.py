"""How custom values appear on pages, in the audit trail and in exports (labels in the user's language).

Names: a list column, sort key or filter of a custom field is its key (``cf_1a2b3c``); an audit entry names
it ``custom.<key>``. Everything else in the web shell stays unaware of custom fields.
"""
from __future__ import annotations

from flask import has_request_context

from core.customfields import registry
from core.customfields.types import KEY_PATTERN, all_types

AUDIT_PREFIX = "custom."


def is_custom_name(name) -> bool:
    return isinstance(name, str) and (bool(KEY_PATTERN.match(name)) or name.startswith(AUDIT_PREFIX))


def key_of(name: str) -> str:
    return name[len(AUDIT_PREFIX):] if name.startswith(AUDIT_PREFIX) else name


def language() -> str:
    if not has_request_context():
        return "en"
    from flask_babel import get_locale
    locale = get_locale()
    return str(locale) if locale is not None else "en"


def _session():
    from core.runtime import db
    return db()


def types():
    from core.runtime import current
    return all_types(current().pm)


def definition(spec, name, include_inactive=True):
    return registry.definition(_session(), spec.name, key_of(name), include_inactive=include_inactive)


def label(spec, name) -> str:
    fdef = definition(spec, name)
    return fdef.label(language()) if fdef is not None else key_of(name)


def record_value(record, name):
    return (getattr(record, "custom", None) or {}).get(key_of(name))


def text(spec, name, value, lookups=None) -> str:
    """The display text of a custom value (option labels, names behind ids, local times, Yes/No)."""
    fdef = definition(spec, name)
    ftype = types().get(fdef.type) if fdef is not None else None
    if ftype is None:
        return "" if value is None else str(value)
    return ftype.format(value, fdef, language(), lookups)


def reference_of(spec, name):
    """"user", an entity name, or None (for batch-loading names behind ids)."""
    fdef = definition(spec, name)
    ftype = types().get(fdef.type) if fdef is not None else None
    return ftype.reference if ftype is not None else None


def lookup_values(spec, records, names, extra_values=()):
    """``(reference, id)`` pairs used by custom columns of ``records`` and by ``extra_values`` (audit)."""
    pairs = []
    for name in names:
        if not is_custom_name(name):
            continue
        reference = reference_of(spec, name)
        if reference:
            pairs += [(reference, record_value(r, name)) for r in records]
    for name, value in extra_values:
        if is_custom_name(name):
            reference = reference_of(spec, name)
            if reference:
                pairs.append((reference, value))
    return [(ref, value) for ref, value in pairs if isinstance(value, int) and not isinstance(value, bool)]
