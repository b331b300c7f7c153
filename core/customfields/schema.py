"""``schema_for(spec, scope, partial)``: the entity's schema with its active custom fields, for every caller
(HTML forms, API bodies and documents, import, export).

One dynamic schema class per entity and definitions stamp (cached); its ``custom`` field is a nested schema
with one field per active custom field (type, required, options, default). Unknown or deactivated keys are
refused like any unknown field; deactivated values already stored are kept (updates merge ``custom``).
Uniqueness and references need the database and the saver's scope: ``core.customfields.checks`` runs them
in the record services.
"""
from __future__ import annotations

import threading

from flask import has_request_context
from marshmallow import RAISE, Schema, ValidationError, fields, missing, pre_load

from core.customfields import registry
from core.customfields.types import all_types
from core.db import CustomFieldsMixin
from core.i18n import _l

_lock = threading.Lock()
_classes: dict[tuple, type] = {}


def extensible(spec) -> bool:
    """Does this entity take custom fields (its spec opts in and its model has the ``custom`` column)?"""
    return bool(spec.custom_fields) and issubclass(spec.model, CustomFieldsMixin)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


class CustomValue(fields.Field):
    """One custom field: blank means "no value" (or "required"); otherwise the type's field validates and the
    type decides the stored JSON form. Dumping returns the stored JSON value as is."""

    def __init__(self, ftype, fdef, **kwargs):
        self.ftype, self.fdef = ftype, fdef
        self.inner = ftype.inner_field(fdef)
        openapi = dict(ftype.openapi)
        openapi["description"] = fdef.label("en") + (f" — {fdef.help('en')}" if fdef.help("en") else "")
        if ftype.has_options and ftype.storage != "list":
            openapi["enum"] = [o.get("value") for o in fdef.options or []]
        required = bool(fdef.required) and fdef.default_value is None
        load_default = fdef.default_value if fdef.default_value is not None else missing
        super().__init__(required=required, allow_none=True, load_default=load_default,
                         metadata={**openapi, "x-custom-type": ftype.key}, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is not missing and _blank(value):
            if self.fdef.required:
                raise ValidationError(_l("Missing data for required field."))
            return None
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip()
            if "\x00" in value:
                raise ValidationError(_l("Invalid value."))
        loaded = self.inner.deserialize(value, attr, data)
        return self.ftype.store(loaded, self.fdef)

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class CustomFieldsBase(Schema):
    class Meta:
        unknown = RAISE


def _custom_schema_class(spec, definitions, types):
    attrs = {}
    for fdef in definitions:
        ftype = types.get(fdef.type)
        if ftype is not None:
            attrs[fdef.key] = CustomValue(ftype, fdef)
    from core.api.openapi import component_name
    return type(f"{component_name(spec.name)}CustomFieldsSchema", (CustomFieldsBase,), attrs)


def _entity_schema_class(spec, custom_class):
    def always_custom(self, data, **kwargs):
        """On create, check required custom fields and apply defaults even when ``custom`` is not sent."""
        if not self.partial and isinstance(data, dict) and data.get("custom") is None:
            data = {**data, "custom": {}}
        return data

    attrs = {
        "custom": fields.Nested(custom_class, allow_none=True, load_default=None,
                                metadata={"description": "Custom fields (module builder)"}),
        "_always_custom": pre_load(always_custom),
    }
    return type(spec.schema.__name__, (spec.schema,), attrs)


def schema_class(spec, session):
    """The cached schema class of ``spec`` for the current definitions (the plain schema if not extensible)."""
    if not extensible(spec):
        return spec.schema
    stamp = registry.current_stamp(session)
    key = (spec.name, spec.schema, stamp)
    cls = _classes.get(key)
    if cls is None:
        from core.runtime import current
        definitions = registry.active_definitions(session, spec.name)
        custom_class = _custom_schema_class(spec, definitions, all_types(current().pm))
        cls = _entity_schema_class(spec, custom_class)
        with _lock:
            for old in [k for k in _classes if k[0] == spec.name and k[1] is spec.schema]:
                _classes.pop(old, None)  # one class per entity: older stamps are dead
            _classes[key] = cls
    return cls


def request_session():
    from core.runtime import db
    if not has_request_context():
        raise RuntimeError("schema_for outside a request needs session=")
    return db()


def schema_for(spec, scope=None, partial=False, session=None, exclude=()):
    """The entity schema with its active custom fields, without the fields hidden from ``scope``.

    ``scope``: the caller's data scope (None: nothing hidden, e.g. the public OpenAPI shapes).
    ``session``: defaults to the request session.
    """
    session = session if session is not None else request_session()
    cls = schema_class(spec, session)
    hidden = set(spec.hidden_fields(scope)) if scope is not None else set()
    names = sorted(n for n in hidden | set(exclude) if n in cls._declared_fields)
    return cls(exclude=names, partial=partial)


def custom_schema(spec, session):
    """The nested schema class of the custom fields (None when the entity is not extensible)."""
    cls = schema_class(spec, session)
    field = cls._declared_fields.get("custom")
    return field.nested if isinstance(field, fields.Nested) else None
