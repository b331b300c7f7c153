"""The entity registry: one ``EntitySpec`` per record type drives the API, list/detail/form pages,
export, search, audit and the leak-matrix tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.db import OwnedMixin


@dataclass
class Field:
    """How a column appears in forms, lists and detail pages.

    ``widget``: text, textarea, select, date, datetime, number, checkbox, email, url, tel, reference.
    ``choices``: list of (value, lazy label) for selects. ``reference``: entity name for reference widgets.
    """

    name: str
    label: Any
    widget: str = "text"
    choices: list | None = None
    reference: str | None = None
    required: bool = False
    help: Any = None


@dataclass
class EntitySpec:
    name: str  # "customer" — URL segment /customer/, API /api/v1/customer
    model: type
    schema: type  # marshmallow Schema class (load + dump)
    label: Any  # lazy singular label
    label_plural: Any
    module: str = "core"
    permission_prefix: str = ""  # default "<module>.<name>"
    fields: list[Field] = field(default_factory=list)  # form/detail fields in display order
    list_columns: list[str] = field(default_factory=list)
    search_fields: list[str] = field(default_factory=list)
    sort_fields: list[str] = field(default_factory=lambda: ["id"])
    filter_fields: list[str] = field(default_factory=list)
    restricted_fields: dict[str, str] = field(default_factory=dict)  # field -> permission to see it
    custom_fields: bool = True
    audit: bool = True
    api: bool = True
    importable: bool = True  # offered on the CSV/XLSX import pages (core.imports)
    # Imports insert rows in bulk, without ``on_save``; False: one by one through the ORM and ``on_save`` (for
    # entities whose save rules write other rows: numbers, stage history).
    bulk_import: bool = True
    title_attr: str = "name"
    icon: str = "bi-card-list"
    # Follow-up records (联系记录) attach to this entity through follow_up.related_entity/related_id: its
    # detail page shows them with an "add follow-up" action.
    follow_ups: bool = False
    # Entity-specific rules run inside the create/update transaction: on_save(session, record, data).
    on_save: Any = None
    # field() look-ups by name (list pages ask ~1,000 times per page): built from ``fields`` and rebuilt
    # when that list is replaced or grows/shrinks, so a plugin adjusting a spec after creation still works.
    _field_index: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.permission_prefix:
            self.permission_prefix = f"{self.module}.{self.name}"
        self._index_fields()

    def _index_fields(self):
        by_name = {}
        for f in self.fields:
            by_name.setdefault(f.name, f)  # the first one wins, as the linear search did
        self._field_index = (id(self.fields), len(self.fields), by_name)
        return by_name

    @property
    def scoped(self) -> bool:
        """Owned records are filtered by the data scope; the others only by module permission."""
        return issubclass(self.model, OwnedMixin)

    def permission(self, action: str) -> str:
        return f"{self.permission_prefix}.{action}"

    def field(self, name) -> Field | None:
        index = self._field_index
        if index is None or index[0] != id(self.fields) or index[1] != len(self.fields):
            return self._index_fields().get(name)
        return index[2].get(name)

    def hidden_fields(self, user_scope) -> set[str]:
        """Fields this user may not see at all (absent from pages, API, export, audit)."""
        return {name for name, perm in self.restricted_fields.items() if not user_scope.has(perm)}

    def title(self, record) -> str:
        return str(getattr(record, self.title_attr, record.id))


class EntityRegistry:
    def __init__(self):
        self._by_name: dict[str, EntitySpec] = {}
        self._by_model: dict[type, EntitySpec] = {}

    def add(self, spec: EntitySpec):
        if spec.name in self._by_name:
            raise ValueError(f"entity {spec.name!r} registered twice")
        self._by_name[spec.name] = spec
        self._by_model[spec.model] = spec

    def get(self, name) -> EntitySpec | None:
        return self._by_name.get(name)

    def __getitem__(self, name) -> EntitySpec:
        return self._by_name[name]

    def for_model(self, model) -> EntitySpec | None:
        return self._by_model.get(model)

    def __iter__(self):
        return iter(self._by_name.values())

    def scoped_specs(self):
        return [s for s in self if s.scoped]
