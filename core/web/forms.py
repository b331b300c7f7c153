"""Record forms generated from ``EntitySpec.fields``: what to show, and how typed text becomes schema input.

Browsers send strings; the entity's marshmallow schema (``spec.schema``) does the validation. Here we only
translate HTML conventions: "on" for a ticked box, "" for "not given", local date-times in the configured
time zone, comma-separated tags.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import missing

from core.i18n import plain
from core.web import display
from core.web.common import hidden_fields, parse_id
from core.web.pickers import owner_options, reference_picker

TEXT_WIDGETS = {"text", "textarea", "tel"}  # free text: the schema decides what "" means
INPUT_TYPES = {"text": "text", "email": "email", "url": "url", "tel": "tel", "number": "number",
               "date": "date", "datetime": "datetime-local", "tags": "text", "hidden": "hidden"}
CHECKED = {"on", "1", "true", "yes", "y"}
TAG_SEPARATORS = re.compile(r"[,，、;；]")
NOT_IN_FORMS = {"custom", "id", "version", "department_id", "created_at", "updated_at", "deleted_at"}


@dataclass
class FormField:
    """One input of a record form, with the value to show and its errors."""

    name: str
    label: str
    widget: str
    required: bool = False
    help: str = ""
    value: object = ""
    errors: list = field(default_factory=list)
    options: list = field(default_factory=list)  # [(value, label)] for select and owner
    blank_option: bool = True
    picker: object = None

    @property
    def input_type(self):
        return INPUT_TYPES.get(self.widget, "text")


def editable_fields(spec) -> list:
    """The spec's fields a form shows to the current user (never hidden ones, never custom values yet)."""
    hidden = hidden_fields(spec)
    has_owner = hasattr(spec.model, "owner_id")
    return [f for f in spec.fields if f.name not in hidden and f.name not in NOT_IN_FORMS
            and (f.widget != "owner" or has_owner)]


@functools.lru_cache(maxsize=256)
def schema_fields(schema_class) -> dict:
    """The declared fields of an entity schema (read only: ``allow_none``, ``load_default``)."""
    return dict(schema_class().fields)


def schema_default(spec, name):
    sf = schema_fields(spec.schema).get(name)
    if sf is None or sf.load_default is missing or callable(sf.load_default):
        return None
    return sf.load_default


def build_form(spec, values: dict, errors: dict, action: str) -> list[FormField]:
    """Inputs for ``action`` ("create"/"edit") showing ``values`` (form strings) and ``errors``."""
    declared = schema_fields(spec.schema)
    form = []
    for fld in editable_fields(spec):
        sf = declared.get(fld.name)
        item = FormField(fld.name, str(fld.label), fld.widget, required=fld.required,
                         help=str(fld.help) if fld.help else "", value=values.get(fld.name, ""),
                         errors=errors.get(fld.name, []),
                         blank_option=bool(sf is None or sf.allow_none) and not fld.required)
        if fld.widget == "select":
            item.options = [(value, str(label)) for value, label in fld.choices or []]
        elif fld.widget == "owner":
            item.options = [(str(uid), name) for uid, name in owner_options(spec, action, parse_id(item.value))]
            item.blank_option = action == "create"  # blank = "me" on create
        elif fld.widget == "reference":
            item.picker = reference_picker(fld.reference, item.value)
        elif fld.widget == "hidden" and fld.name == "related_id":
            item.help = related_summary(values.get("related_entity"), item.value)
        form.append(item)
    return form


def related_summary(entity, record_id) -> str:
    """"Project: PRJ-2026-0001 …" for a follow-up form attached to another record; empty when that record is
    unknown or out of the user's scope (saving then reports the error at the field)."""
    from core.runtime import current, db
    from core.scope import get_scoped

    target = current().entities.get(entity or "")
    record_id = parse_id(record_id)
    if target is None or record_id is None:
        return ""
    record = get_scoped(db(), target.model, record_id)
    return f"{target.label}: {display.shorten(target.title(record), 120)}" if record is not None else ""



# ---------------------------------------------------------------- values shown in the form

def form_text(value, widget: str):
    """A stored value as the text an input shows."""
    if widget == "checkbox":
        return bool(value)
    if value is None:
        return ""
    if widget == "tags" or isinstance(value, (list, tuple)):
        return ", ".join(str(getattr(v, "name", v)) for v in value)
    if isinstance(value, dt.datetime):
        return value.astimezone(display.local_timezone()).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def values_from_record(spec, record) -> dict:
    return {f.name: form_text(getattr(record, f.name, None), f.widget) for f in editable_fields(spec)}


def initial_values(spec, args) -> dict:
    """A new record's form: schema defaults, then anything given in the URL (``?customer_id=5``)."""
    values = {}
    for fld in editable_fields(spec):
        default = schema_default(spec, fld.name)
        if fld.widget == "datetime" and default is None:
            default = dt.datetime.now(dt.timezone.utc)  # "when did it happen": now, unless changed
        values[fld.name] = form_text(default, fld.widget)
        if fld.name in args:
            raw = args.get(fld.name, "")[:1000]
            values[fld.name] = raw.lower() in CHECKED if fld.widget == "checkbox" else raw
    return values


def values_from_form(spec, form) -> dict:
    """What the user typed, to show it again after an error."""
    values = {}
    for fld in editable_fields(spec):
        raw = form.get(fld.name)
        values[fld.name] = (raw or "").lower() in CHECKED if fld.widget == "checkbox" else (raw or "")
    return values


# ---------------------------------------------------------------- form text -> schema input

def local_to_utc(text: str) -> str:
    """``2024-05-01T09:30`` in the configured time zone -> ISO 8601 UTC; unparseable text passes through
    unchanged so that the schema reports it at the field."""
    try:
        naive = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    aware = naive if naive.tzinfo else naive.replace(tzinfo=display.local_timezone())
    return aware.astimezone(dt.timezone.utc).isoformat()


def split_tags(text: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in TAG_SEPARATORS.split(text) if t.strip()))


def data_from_form(spec, form) -> dict:
    """Schema input from submitted form fields; fields absent from the submission are left out
    (except check boxes, which browsers omit when unticked)."""
    data = {}
    declared = schema_fields(spec.schema)
    for fld in editable_fields(spec):
        raw = form.get(fld.name)
        if fld.widget == "checkbox":
            data[fld.name] = (raw or "").lower() in CHECKED
        elif raw is None:
            continue
        elif fld.widget == "tags":
            data[fld.name] = split_tags(raw)
        elif fld.widget in TEXT_WIDGETS:
            data[fld.name] = raw
        elif raw.strip():  # select, number, date, datetime, owner, reference, email, url
            data[fld.name] = _typed_text(fld.widget, raw.strip())
        elif fld.name not in declared or declared[fld.name].allow_none:
            data[fld.name] = None  # "" means "not given"
        # else: a field that cannot be empty is left out: its default applies, or "required" is reported
    return data


def _typed_text(widget, text):
    if widget == "datetime":
        return local_to_utc(text)
    if widget in ("owner", "reference") and text.isdigit() and parse_id(text) is None:
        # An id no row can have (beyond 64 bits): ask for id -1 so that the service answers "not found" at
        # the field, instead of the database driver failing on the number.
        return "-1"
    return text


def without_unset_defaults(spec, data: dict, editing=False) -> dict:
    """"Not given" (None) for a column that has a default: on create, use the default; on edit, keep the
    current value when the column cannot be empty (a cleared "time" of a follow-up is not a change)."""
    columns = spec.model.__table__.columns

    def unset(key, value):
        if value is not None or key not in columns or columns[key].default is None:
            return False
        return not editing or not columns[key].nullable

    return {k: v for k, v in data.items() if not unset(k, v)}


def field_errors(messages) -> dict:
    """marshmallow messages -> ``{field: [plain text, ...]}`` (nested list errors flattened)."""
    flat = {}
    for name, value in plain(messages if isinstance(messages, dict) else {"_schema": messages}).items():
        flat[name] = list(_leaves(value))
    return flat


def _leaves(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from _leaves(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _leaves(inner)
    else:
        yield str(value)
