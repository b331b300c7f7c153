"""The module builder's rules: add, change, reorder, deactivate and reactivate custom fields, and move a
deployment's customisation between systems as one JSON document.

Every change writes a new definitions stamp (``registry.bump_stamp``) in the same transaction, so every app
process picks it up at its next request. Fields are never deleted: deactivation hides a field everywhere and
keeps each stored value; reactivation brings it back. Index DDL runs after the commit (MariaDB commits
implicitly around DDL) and only for indexable types.
"""
from __future__ import annotations

import logging
import secrets

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core.customfields import indexes, registry
from core.customfields.models import DEFINITION_FIELDS, CustomFieldDef
from core.customfields.schema import CustomValue, extensible
from core.customfields.types import KEY_PATTERN, OPTION_VALUE, all_types, may_change
from core.i18n import _l

log = logging.getLogger("guanxi.customfields")
EXPORT_FORMAT = "guanxi-customfields"
EDITABLE = ("type", "label_zh", "label_en", "help_zh", "help_en", "options", "required", "default_value",
            "section", "show_in_list", "filterable", "indexed", "unique")


class OptionSchema(Schema):
    class Meta:
        unknown = RAISE

    value = fields.String(required=True, validate=validate.Regexp(
        OPTION_VALUE, error=_l("Use letters, digits, - _ . only (at most 50).")))
    label_zh = fields.String(load_default="", validate=validate.Length(max=100))
    label_en = fields.String(load_default="", validate=validate.Length(max=100))


class DefinitionSchema(Schema):
    """What an administrator (or an imported file) may set; the key and entity are never taken from here."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True)
    label_zh = fields.String(load_default="", validate=validate.Length(max=100))
    label_en = fields.String(load_default="", validate=validate.Length(max=100))
    help_zh = fields.String(load_default="", validate=validate.Length(max=255))
    help_en = fields.String(load_default="", validate=validate.Length(max=255))
    options = fields.List(fields.Nested(OptionSchema), load_default=list, validate=validate.Length(max=200))
    required = fields.Boolean(load_default=False)
    default_value = fields.Raw(load_default=None, allow_none=True)
    section = fields.String(load_default="", validate=validate.Length(max=100))
    show_in_list = fields.Boolean(load_default=False)
    filterable = fields.Boolean(load_default=False)
    indexed = fields.Boolean(load_default=False)
    unique = fields.Boolean(load_default=False)

    @validates_schema
    def _labels(self, data, **kwargs):
        if not (data.get("label_zh") or "").strip() and not (data.get("label_en") or "").strip():
            raise ValidationError(_l("Give a label in at least one language."), "label_en")


def _types():
    from core.runtime import current
    return all_types(current().pm)


def _clean(data: dict, types) -> dict:
    """Type-dependent rules: options only for selects, index/unique only where the type allows, a valid
    default stored in the type's JSON form."""
    ftype = types.get(data["type"])
    if ftype is None:
        raise ValidationError({"type": [str(_l("Unknown field type."))]})
    data = {**data, **{k: (data.get(k) or "").strip() for k in ("label_zh", "label_en", "help_zh", "help_en",
                                                              "section")}}
    if ftype.has_options:
        values = [o["value"] for o in data["options"]]
        if not values:
            raise ValidationError({"options": [str(_l("Give at least one option."))]})
        if len(set(values)) != len(values):
            raise ValidationError({"options": [str(_l("Each option value may appear only once."))]})
    else:
        data["options"] = []
    if data["indexed"] and not ftype.indexable:
        raise ValidationError({"indexed": [str(_l("This type cannot be indexed."))]})
    if data["unique"] and not ftype.uniqueable:
        raise ValidationError({"unique": [str(_l("This type cannot be unique."))]})
    if ftype.reference:
        data["default_value"] = None
    if data["default_value"] not in (None, "", []):
        probe = _Probe(data)
        try:
            data["default_value"] = CustomValue(ftype, probe).deserialize(data["default_value"])
        except ValidationError as err:
            raise ValidationError({"default_value": err.messages}) from None
    else:
        data["default_value"] = None
    return data


class _Probe:
    """Enough of a definition to validate a default value before the definition exists."""

    def __init__(self, data):
        self.__dict__.update(data)
        self.key = "cf_probe"
        self.required = False
        self.default_value = None

    def label(self, language="en"):
        return self.label_en or self.label_zh

    def help(self, language="en"):
        return ""


def new_key(session, entity) -> str:
    """A fresh server slug ``cf_<6 hex>``, never derived from the label."""
    while True:
        key = f"cf_{secrets.token_hex(3)}"
        taken = session.execute(select(CustomFieldDef.id).where(CustomFieldDef.entity == entity,
                                                                CustomFieldDef.key == key)).first()
        if taken is None:
            return key


def _spec(entity):
    from core.runtime import current
    spec = current().entities.get(entity)
    if spec is None or not extensible(spec):
        raise ValidationError({"entity": [str(_l("This record type takes no custom fields."))]})
    return spec


def get_field(session, field_id) -> CustomFieldDef:
    row = session.execute(select(CustomFieldDef).where(CustomFieldDef.id == field_id)).scalar_one_or_none()
    if row is None:
        from core.services import NotFound
        raise NotFound(f"custom field {field_id}")
    return row


def fields_of(session, entity):
    return session.execute(select(CustomFieldDef).where(CustomFieldDef.entity == entity)
                           .order_by(CustomFieldDef.position, CustomFieldDef.id)).scalars().all()


def create_field(session, entity: str, values: dict) -> CustomFieldDef:
    """Add a custom field to ``entity`` (validated), with a new key, at the end."""
    spec = _spec(entity)
    data = _clean(DefinitionSchema().load(values), _types())
    last = session.execute(select(func.max(CustomFieldDef.position))
                           .where(CustomFieldDef.entity == entity)).scalar()
    row = CustomFieldDef(entity=entity, key=new_key(session, entity), active=True,
                         position=(last if last is not None else -1) + 1, **data)
    session.add(row)
    registry.bump_stamp(session)
    session.commit()
    _sync_index(session, spec, row, was_indexed=False, old_type=row.type)
    return row


def update_field(session, field_id: int, values: dict) -> CustomFieldDef:
    """Change labels, options, flags or (between compatible types) the type; the key never changes."""
    row = get_field(session, field_id)
    spec = _spec(row.entity)
    types = _types()
    data = _clean(DefinitionSchema().load(values), types)
    if not may_change(row.type, data["type"], types):
        raise ValidationError({"type": [str(_l("The type can only change to a compatible type."))]})
    was_indexed, old_type = row.indexed and row.active, row.type
    changed = _apply(row, data)
    if changed:
        registry.bump_stamp(session)
    session.commit()
    if changed:
        _sync_index(session, spec, row, was_indexed, old_type)
    return row


def _apply(row, data) -> bool:
    changed = False
    for name in EDITABLE:
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])
            changed = True
    return changed


def set_active(session, field_id: int, active: bool) -> CustomFieldDef:
    """Deactivate (hide everywhere, keep the values) or reactivate a field."""
    row = get_field(session, field_id)
    spec = _spec(row.entity)
    if row.active == active:
        return row
    was_indexed = row.indexed and row.active
    row.active = active
    registry.bump_stamp(session)
    session.commit()
    _sync_index(session, spec, row, was_indexed, row.type)
    return row


def move(session, field_id: int, offset: int) -> CustomFieldDef:
    """Move a field up (-1) or down (+1) among its entity's fields."""
    row = get_field(session, field_id)
    rows = list(fields_of(session, row.entity))
    index = rows.index(row)
    target = index + offset
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
        for position, item in enumerate(rows):
            item.position = position
        registry.bump_stamp(session)
        session.commit()
    return row


def reorder(session, entity: str, field_ids: list[int]):
    """Put ``entity``'s fields in the given order (ids not named keep their relative order at the end)."""
    rows = list(fields_of(session, entity))
    by_id = {r.id: r for r in rows}
    ordered = [by_id[i] for i in dict.fromkeys(field_ids) if i in by_id]
    ordered += [r for r in rows if r not in ordered]
    for position, item in enumerate(ordered):
        item.position = position
    registry.bump_stamp(session)
    session.commit()


def _sync_index(session, spec, row, was_indexed: bool, old_type: str):
    """Create or drop the expression index so that it exists exactly for active, indexed fields.

    The definition is already saved: when the DDL fails, the field stays without index (``indexed`` is
    switched off) and ``row.index_problem`` says so, for the page to show as a warning."""
    types = _types()
    ftype = types.get(row.type)
    wanted = bool(row.active and row.indexed and ftype is not None and ftype.indexable)
    if not wanted and not was_indexed:
        return
    try:
        if was_indexed and (not wanted or old_type != row.type):
            indexes.drop_index(session, spec.model, row)
        if wanted:
            indexes.create_index(session, spec.model, row, ftype)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("custom field index of %s.%s could not be changed", row.entity, row.key)
        if wanted:  # never leave a definition that filters through an index that is not there
            row = get_field(session, row.id)
            row.indexed = False
            registry.bump_stamp(session)
            session.commit()
        row.index_problem = str(_l("The index could not be changed; the field is saved without it."))


# ---------------------------------------------------------------- customisation export / import

def export_document(session) -> dict:
    """Every definition (active or not) of every entity, as one JSON-ready document."""
    rows = session.execute(select(CustomFieldDef).order_by(CustomFieldDef.entity, CustomFieldDef.position,
                                                           CustomFieldDef.id)).scalars().all()
    items = []
    for row in rows:
        item = {name: getattr(row, name) for name in DEFINITION_FIELDS if name != "id"}
        item["options"] = list(item["options"] or [])
        items.append(item)
    return {"format": EXPORT_FORMAT, "version": 1, "fields": items}


def import_document(session, document) -> dict:
    """Create or update definitions from ``export_document`` output, matched by (entity, key).

    All-or-nothing; importing the same document twice changes nothing. Returns counts.
    """
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT \
            or not isinstance(document.get("fields"), list):
        raise ValidationError({"file": [str(_l("This is not a custom field export of Guanxi."))]})
    types = _types()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    touched = []
    for number, item in enumerate(document["fields"], start=1):
        try:
            row, outcome, before = _import_one(session, item, types)
        except ValidationError as err:
            session.rollback()
            raise ValidationError({f"field {number}": err.messages}) from None
        counts[outcome] += 1
        if outcome != "unchanged":
            touched.append((row, before))
    if touched:
        registry.bump_stamp(session)
    session.commit()
    for row, (was_indexed, old_type) in touched:
        _sync_index(session, _spec(row.entity), row, was_indexed, old_type)
    return counts


def _import_one(session, item, types):
    if not isinstance(item, dict):
        raise ValidationError([str(_l("Invalid value."))])
    entity, key = item.get("entity"), item.get("key")
    _spec(entity if isinstance(entity, str) else "")
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > 40:
        raise ValidationError({"key": [str(_l("Invalid value."))]})
    values = {k: item[k] for k in DefinitionSchema().fields if k in item}
    data = _clean(DefinitionSchema().load(values), types)
    active = bool(item.get("active", True))
    position = item.get("position") if isinstance(item.get("position"), int) else 0
    row = session.execute(select(CustomFieldDef).where(CustomFieldDef.entity == entity,
                                                       CustomFieldDef.key == key)).scalar_one_or_none()
    if row is None:
        row = CustomFieldDef(entity=entity, key=key, active=active, position=position, **data)
        session.add(row)
        session.flush()
        return row, "created", (False, row.type)
    if not may_change(row.type, data["type"], types):
        raise ValidationError({"type": [str(_l("The type can only change to a compatible type."))]})
    before = (row.indexed and row.active, row.type)
    changed = _apply(row, data)
    for name, value in (("active", active), ("position", position)):
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return row, "updated" if changed else "unchanged", before
