"""Custom fields in the generic web pages: form inputs grouped in sections, detail sections, list columns
(with the per-user column choice), filters and sort keys. The HTML input, column, sort and filter name of a
custom field is its key (``cf_1a2b3c``)."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from core.customfields import registry
from core.customfields.display import language, types
from core.customfields.schema import extensible
from core.i18n import _
from core.models import Setting, User


def _session():
    from core.runtime import db
    return db()


def active(spec):
    """(definition, type) pairs of the entity's active custom fields, in order."""
    if not extensible(spec):
        return []
    known = types()
    return [(d, known[d.type]) for d in registry.active_definitions(_session(), spec.name) if d.type in known]


def _section_title(fdef) -> str:
    return fdef.section or _("Additional fields")


def _group(items, section_of):
    sections, order = {}, []
    for item in items:
        title = section_of(item)
        if title not in sections:
            sections[title] = []
            order.append(title)
        sections[title].append(item)
    return [(title, sections[title]) for title in order]


# ---------------------------------------------------------------- forms

def form_sections(spec, values: dict, errors: dict, action: str):
    """``[(section title, [FormField])]`` of the active custom fields."""
    from core.web.forms import FormField
    from core.web.pickers import reference_picker
    items = []
    for fdef, ftype in active(spec):
        lang = language()
        item = FormField(fdef.key, fdef.label(lang), ftype.widget, required=fdef.required, help=fdef.help(lang),
                         value=values.get(fdef.key, [] if ftype.storage == "list" else ""),
                         errors=errors.get(fdef.key, []), blank_option=not fdef.required)
        if ftype.widget in ("select", "multiselect"):
            item.options = [(o["value"], fdef.option_label(o["value"], lang)) for o in fdef.options or []]
        elif ftype.widget == "user":
            item.widget = "select"
            item.options = _user_options()
        elif ftype.widget == "reference":
            item.picker = reference_picker(ftype.reference, item.value)
        items.append((fdef, item))
    return [(title, [item for _d, item in group]) for title, group in _group(items, lambda p: _section_title(p[0]))]


def _user_options():
    cached = g.get("_cf_user_options")
    if cached is None:
        rows = _session().execute(select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))
        cached = g._cf_user_options = [(str(row.id), row.name) for row in rows]
    return cached


def values_from_record(spec, record) -> dict:
    stored = getattr(record, "custom", None) or {}
    return {d.key: t.form_text(stored.get(d.key)) for d, t in active(spec)}


def initial_values(spec) -> dict:
    return {d.key: t.form_text(d.default_value) for d, t in active(spec)}


def values_from_form(spec, form) -> dict:
    """What the user typed, to show it again after an error."""
    values = {}
    for fdef, ftype in active(spec):
        if ftype.storage == "list":
            values[fdef.key] = form.getlist(fdef.key)
        elif ftype.widget == "checkbox":
            values[fdef.key] = (form.get(fdef.key) or "").lower() in ("on", "1", "true", "yes", "y")
        else:
            values[fdef.key] = form.get(fdef.key) or ""
    return values


def data_from_form(spec, form, editing=False) -> dict | None:
    """Schema input for ``custom`` from the submitted form (None when the entity has no custom fields)."""
    from core.web.forms import local_to_utc
    fields_ = active(spec)
    if not fields_:
        return None
    data = {}
    for fdef, ftype in fields_:
        if ftype.storage == "list":
            data[fdef.key] = form.getlist(fdef.key)
        elif ftype.widget == "checkbox":
            data[fdef.key] = (form.get(fdef.key) or "").lower() in ("on", "1", "true", "yes", "y")
        else:
            raw = form.get(fdef.key)
            if raw is None:
                continue
            data[fdef.key] = local_to_utc(raw) if ftype.widget == "datetime" and raw.strip() else raw
    return data


def split_errors(messages):
    """marshmallow messages -> (messages without ``custom``, ``{key: [text]}`` of the custom fields)."""
    from core.web.forms import field_errors
    if not isinstance(messages, dict):
        return messages, {}
    custom = messages.get("custom")
    rest = {k: v for k, v in messages.items() if k != "custom"}
    if isinstance(custom, dict):
        return rest, field_errors(custom)
    if custom:
        rest["_schema"] = list(rest.get("_schema", [])) + (custom if isinstance(custom, list) else [custom])
    return rest, {}


def field_errors(messages) -> dict:
    """Flat ``{field or custom key: [text]}`` for the form."""
    from core.web.forms import field_errors as core_errors
    rest, custom = split_errors(messages)
    return {**core_errors(rest), **custom}


# ---------------------------------------------------------------- detail page

def detail_sections(spec, record, lookups):
    """``[(section title, [(label, Cell)])]``; empty values show as a dash."""
    from core.web.display import custom_cell
    stored = getattr(record, "custom", None) or {}
    rows = [(fdef, (fdef.label(language()), custom_cell(spec, fdef.key, stored.get(fdef.key), lookups)))
            for fdef, _t in active(spec)]
    return [(title, [row for _d, row in group]) for title, group in _group(rows, lambda p: _section_title(p[0]))]


def keys(spec) -> list[str]:
    return [d.key for d, _t in active(spec)]


# ---------------------------------------------------------------- list columns, filters, sorting

COLUMNS_KEY = "listcolumns.{user}.{entity}"


def available_columns(spec, base_columns) -> list[str]:
    """Every column the user may choose: the entity's visible columns, then each active custom field."""
    return list(dict.fromkeys(list(base_columns) + keys(spec)))


def default_columns(spec, base_columns) -> list[str]:
    return list(base_columns) + [d.key for d, _t in active(spec) if d.show_in_list]


def chosen_columns(spec, base_columns, user_id, choosable=()) -> list[str]:
    """The user's saved choice (unknown, hidden or deactivated names dropped), else the default columns."""
    available = available_columns(spec, list(choosable) or base_columns)
    saved = None
    if user_id is not None:
        row = _session().execute(select(Setting.value).where(
            Setting.key == COLUMNS_KEY.format(user=user_id, entity=spec.name))).scalar_one_or_none()
        saved = row.get("columns") if isinstance(row, dict) else None
    if not saved:
        return default_columns(spec, base_columns)
    chosen = [name for name in saved if name in available]
    return chosen or default_columns(spec, base_columns)


def save_columns(session, spec, user_id, columns, choosable):
    """Store the user's column choice (only names he may see; empty = back to the default)."""
    available = available_columns(spec, choosable)
    wanted = [name for name in dict.fromkeys(columns) if name in available]
    key = COLUMNS_KEY.format(user=user_id, entity=spec.name)
    row = session.execute(select(Setting).where(Setting.key == key)).scalar_one_or_none()
    if not wanted:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Setting(key=key, value={"columns": wanted}))
    else:
        row.value = {"columns": wanted}
    session.commit()


def sortable_keys(spec) -> set[str]:
    return {d.key for d, t in active(spec) if t.sortable}


def filterable(spec):
    return [(d, t) for d, t in active(spec) if d.filterable and t.key != "datetime"]


def parse_filters(spec, args) -> tuple[dict, dict]:
    """(typed filters, raw texts) from ``f_<key>`` URL arguments; unusable values are ignored."""
    typed, raw_texts = {}, {}
    for fdef, ftype in filterable(spec):
        raw = (args.get(f"f_{fdef.key}") or "").strip()[:200]
        if not raw:
            continue
        try:
            typed[fdef.key] = ftype.parse_filter(raw, fdef)
        except (ValueError, ArithmeticError):
            continue
        raw_texts[fdef.key] = raw
    return typed, raw_texts


def filter_controls(spec, raw_filters: dict):
    """``FilterControl`` objects for the list page (same kinds as the core ones)."""
    from core.web.listing import FilterControl
    from core.web.pickers import reference_picker
    controls = []
    lang = language()
    for fdef, ftype in filterable(spec):
        control = FilterControl(fdef.key, fdef.label(lang), "text", raw_filters.get(fdef.key, ""))
        if ftype.has_options:
            control.kind = "select"
            control.options = [(o["value"], fdef.option_label(o["value"], lang)) for o in fdef.options or []]
        elif ftype.storage == "boolean":
            control.kind = "select"
            control.options = [("1", _("Yes")), ("0", _("No"))]
        elif ftype.widget == "user":
            control.kind = "select"
            control.options = _user_options()
        elif ftype.widget == "reference":
            control.kind = "reference"
            control.picker = reference_picker(ftype.reference, control.value)
        elif ftype.storage in ("integer", "decimal"):
            control.kind = "number"
        elif ftype.key == "date":
            control.kind = "date"
        controls.append(control)
    return controls


def column_choices(spec, chosen, choosable):
    """``[(name, label, checked)]`` for the column chooser: chosen columns first, in their order."""
    from core.web.display import label
    names = list(dict.fromkeys(list(chosen) + available_columns(spec, choosable)))
    return [(name, label(spec, name), name in chosen) for name in names]


def hidden_audit_names(spec) -> set[str]:
    """``custom.<key>`` of deactivated fields: hidden from the history too, like everywhere else."""
    if not extensible(spec):
        return set()
    return {f"custom.{d.key}" for d in registry.all_definitions(_session(), spec.name) if not d.active}
