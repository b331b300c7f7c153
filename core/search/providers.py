"""Search providers: what of an entity is indexed, and how its results are presented."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from flask import has_app_context
from sqlalchemy import Text

from core.search.tokens import EMAIL, LONG, PHONE, TEXT

_WIDGET_KINDS = {"tel": PHONE, "email": EMAIL, "textarea": LONG}


@dataclass
class SearchProvider:
    """One source of the global search box: an entity and its searchable fields.

    ``fields`` maps attribute name -> kind (``text``, ``long``, ``phone``, ``email``; see
    ``core.search.tokens``). Results are loaded through the caller's scoped session with the entity's
    "view" permission, so a provider never decides visibility itself. The tokens of a field restricted by a
    permission (``EntitySpec.restricted_fields``) live in a namespace of their own (``tokens.namespaced``)
    that only a search by someone holding that permission looks into: a search must not reveal what a
    page hides.
    """

    entity: str
    fields: dict[str, str] = field(default_factory=dict)
    spec: object = field(default=None, compare=False, repr=False)  # bound at start-up (``bind``)

    def bind(self, spec) -> "SearchProvider":
        self.spec = spec
        return self

    @property
    def model(self):
        return self.spec.model

    def indexed_fields(self) -> dict[str, str]:
        return dict(self.fields)

    def restricted(self) -> set[str]:
        return set(self.fields) & set(self.spec.restricted_fields)

    def custom_keys(self, session=None) -> list[str]:
        """Keys of the entity's searchable custom fields (module builder), when that module provides them.

        The module builder reads its field types from the running app, so outside an app context (a bare
        script) custom fields are not indexed; ``guanxi search reindex`` runs inside one.
        """
        if not self.spec.custom_fields or not has_app_context():
            return []
        try:
            customfields = importlib.import_module("core.customfields")
        except ImportError:
            return []
        searchable_keys = getattr(customfields, "searchable_keys", None)
        if searchable_keys is None:
            return []
        if session is None:
            return list(searchable_keys(self.spec))
        with session.no_autoflush:  # may run inside a flush (the index listener)
            return list(searchable_keys(self.spec, session=session))

    def values(self, record, custom_keys=()):
        """(kind, value, namespace) triples of ``record`` to index (``custom_keys``: from ``custom_keys()``,
        asked once per batch); the namespace is the field name for restricted fields, else ""."""
        restricted = self.restricted()
        for name, kind in self.indexed_fields().items():
            yield kind, getattr(record, name, None), name if name in restricted else ""
        custom = (getattr(record, "custom", None) or {}) if custom_keys else {}
        for key in custom_keys:
            value = custom.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, (str, int)):
                    yield TEXT, item, ""

    def watched_attributes(self) -> list[str]:
        """Attributes whose change needs a reindex."""
        names = list(self.indexed_fields())
        if self.spec.custom_fields and hasattr(self.model, "custom"):
            names.append("custom")
        if hasattr(self.model, "deleted_at"):
            names.append("deleted_at")
        return names


def default_kind(spec, name: str) -> str:
    """The token kind of a plugin entity's search field, guessed from its form widget and column type."""
    form_field = spec.field(name)
    if form_field is not None and form_field.widget in _WIDGET_KINDS:
        return _WIDGET_KINDS[form_field.widget]
    column = spec.model.__table__.columns.get(name)
    if column is not None and isinstance(column.type, Text):
        return LONG
    if "email" in name:
        return EMAIL
    if "phone" in name or "mobile" in name:
        return PHONE
    return TEXT


def default_provider(spec) -> SearchProvider:
    """A provider built from ``spec.search_fields`` (what a plugin entity gets without writing one)."""
    return SearchProvider(spec.name, {name: default_kind(spec, name) for name in spec.search_fields
                                      if hasattr(spec.model, name)}, spec)


def core_providers() -> list[SearchProvider]:
    """Core's own entities, with the kind of each field spelled out."""
    return [
        SearchProvider("customer", {"name": TEXT, "code": TEXT, "phone": PHONE, "email": EMAIL}),
        SearchProvider("contact", {"name": TEXT, "mobile": PHONE, "phone": PHONE, "email": EMAIL, "wechat": TEXT}),
        SearchProvider("followup", {"content": LONG}),
        SearchProvider("product", {"name": TEXT, "code": TEXT, "category": TEXT}),
    ]
