"""How record values appear on pages and in exports: labels, choice labels, owner names, reference titles.

Names behind ids (owners, referenced records) are loaded for a whole page at once (``Lookups``), one query
per kind, so a list of 50 rows costs the same number of queries as a list of 5.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import numbers as babel_numbers
from flask import current_app, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_timezone
from sqlalchemy import select

from core.i18n import _, _l
from core.models import User
from core.customfields import display as custom_display
from core.runtime import current

# Columns every entity may list without declaring a Field for them.
STANDARD_LABELS = {
    "id": _l("ID"), "created_at": _l("Created"), "updated_at": _l("Updated"), "owner_id": _l("Owner"),
    "department_id": _l("Department"), "deleted_at": _l("Deleted"), "version": _l("Version"),
    "attachment": _l("Attachment"),
}


def label(spec, name) -> str:
    """The translated label of a field or standard column."""
    if custom_display.is_custom_name(name):
        return custom_display.label(spec, name)
    fld = spec.field(name)
    if fld is not None:
        return str(fld.label)
    if name in STANDARD_LABELS:
        return str(STANDARD_LABELS[name])
    return name.replace("_", " ").capitalize()


def is_owner_field(spec, name) -> bool:
    fld = spec.field(name)
    return name == "owner_id" or (fld is not None and fld.widget == "owner")


def reference_of(spec, name) -> str | None:
    fld = spec.field(name)
    return fld.reference if fld is not None and fld.widget == "reference" else None


def choice_label(spec, name, value):
    fld = spec.field(name)
    if fld is None or not fld.choices or value is None:
        return None
    for choice_value, choice_label_ in fld.choices:
        if choice_value == value:
            return str(choice_label_)
    return None


@dataclass
class Cell:
    """One displayed value: ``text`` and, for owners/references, maybe a link."""

    text: str
    url: str | None = None
    muted: bool = False


@dataclass
class Lookups:
    """Names for the ids shown on one page: ``users`` id -> name, ``titles[(entity, id)]`` -> title."""

    users: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)


def load_lookups(session, spec, records=(), names=(), extra_values=()) -> Lookups:
    """Batch-load owner names and reference titles used by ``names`` of ``records``.

    ``extra_values``: ``(field name, value)`` pairs from elsewhere (audit trail old/new values).
    """
    user_ids: set[int] = set()
    ref_ids: dict[str, set[int]] = {}
    pairs = [(name, getattr(record, name, None)) for record in records for name in names]
    for name, value in list(pairs) + list(extra_values):
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if is_owner_field(spec, name):
            user_ids.add(value)
        elif reference_of(spec, name):
            ref_ids.setdefault(reference_of(spec, name), set()).add(value)
    for reference, value in custom_display.lookup_values(spec, records, names, extra_values):
        if reference == "user":
            user_ids.add(value)
        else:
            ref_ids.setdefault(reference, set()).add(value)
    lookups = Lookups()
    if user_ids:
        rows = session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        lookups.users = {row.id: row.name for row in rows}
    for entity, ids in ref_ids.items():
        lookups.titles.update(load_titles(session, entity, ids))
    return lookups


def load_titles(session, entity, ids) -> dict:
    """``{(entity, id): title}`` of the referenced records the user may see (one scoped query)."""
    target = current().entities.get(entity)
    if target is None or not ids:
        return {}
    model = target.model
    if target.title_attr in model.__mapper__.column_attrs.keys():
        title_column = getattr(model, target.title_attr)
        rows = session.execute(select(model.id, title_column).where(model.id.in_(ids)))
        return {(entity, row[0]): shorten(row[1] if row[1] is not None else f"#{row[0]}") for row in rows}
    records = session.execute(select(model).where(model.id.in_(ids))).unique().scalars()
    return {(entity, r.id): shorten(target.title(r)) for r in records}


def shorten(text, size=80) -> str:
    text = str(text)
    return text if len(text) <= size else text[: size - 1] + "…"


def local_timezone():
    return ZoneInfo(current_app.config.get("TIMEZONE") or "UTC")


def plain_value(value) -> str:
    """A readable, localised text for a stored value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm")  # local time zone; one unambiguous form
    if isinstance(value, dt.date):
        return format_date(value, "yyyy-MM-dd")
    if isinstance(value, Decimal):
        return format_decimal(value, "#,##0.00")
    if isinstance(value, (list, tuple, set)):
        return ", ".join(plain_value(getattr(v, "name", v)) for v in value)
    return str(value)


def _coerce_audit_value(value):
    """Audit entries store JSON (ISO strings); show datetimes as datetimes again."""
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return value


def cell(spec, name, value, lookups: Lookups, links=True, from_audit=False) -> Cell:
    """How ``value`` of field ``name`` appears: owner name, reference title (link), choice label, text."""
    if custom_display.is_custom_name(name):
        return custom_cell(spec, name, value, lookups, links)
    if from_audit:
        value = _coerce_audit_value(value)
    if value is None or value == "" or value == []:
        return Cell("", muted=True)
    if is_owner_field(spec, name) and isinstance(value, int):
        return Cell(lookups.users.get(value, f"#{value}"))
    entity = reference_of(spec, name)
    if entity and isinstance(value, int):
        title = lookups.titles.get((entity, value))
        if title is None:
            return Cell(_("(not visible)"), muted=True)
        url = url_for("web.record_detail", entity=entity, record_id=value) if links else None
        return Cell(title, url)
    label_ = choice_label(spec, name, value)
    if label_ is not None:
        return Cell(label_)
    return Cell(plain_value(value))


def record_cell(spec, record, name, lookups, links=True) -> Cell:
    return cell(spec, name, record_value(record, name), lookups, links=links)


def record_value(record, name):
    """A column's value, custom fields (``cf_...``) included."""
    if custom_display.is_custom_name(name):
        return custom_display.record_value(record, name)
    return getattr(record, name, None)


def custom_cell(spec, name, value, lookups, links=True) -> Cell:
    """A custom field's value: names behind ids (linked), option labels, local times."""
    if value is None or value == "" or value == []:
        return Cell("", muted=True)
    text = custom_display.text(spec, name, value, lookups)
    reference = custom_display.reference_of(spec, name)
    if reference and reference != "user" and links and (reference, value) in lookups.titles:
        return Cell(text, url_for("web.record_detail", entity=reference, record_id=value))
    return Cell(text, muted=reference is not None and reference != "user" and (reference, value)
                not in lookups.titles)


# ---------------------------------------------------------------------- list pages: one pass in Python

# An id no record has, put into one url_for() result and then replaced by each row's id: building 50 detail
# links costs one URL build instead of 50 (werkzeug's url building is a measurable share of a list page).
_URL_SENTINEL = 918273645546372819


def record_url_maker(entity):
    """``record_id -> url of its detail page`` for ``entity``, with the same result as ``url_for``."""
    url = url_for("web.record_detail", entity=entity, record_id=_URL_SENTINEL)
    head, sep, tail = url.partition(str(_URL_SENTINEL))
    if not sep:  # a URL converter that rewrote the id: fall back to building each URL
        return lambda record_id: url_for("web.record_detail", entity=entity, record_id=record_id)
    return lambda record_id: f"{head}{int(record_id)}{tail}"


class ValueText:
    """``plain_value`` for one request: locale, time zone and Yes/No resolved once, not per cell.

    Gives the same texts as ``plain_value`` (the same Babel patterns; the date and time patterns are
    numeric, so they are written directly).
    """

    def __init__(self):
        self.timezone = get_timezone()
        self.locale = get_locale()
        self.yes, self.no = _("Yes"), _("No")

    def __call__(self, value) -> str:
        if value is None:
            return ""
        kind = type(value)
        if kind is str:
            return value
        if kind is bool:
            return self.yes if value else self.no
        if kind is dt.datetime:
            # Flask-Babel: a naive datetime is UTC; shown in the configured time zone as yyyy-MM-dd HH:mm
            local = (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(self.timezone)
            return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
        if kind is dt.date:
            return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        if kind is Decimal:
            return babel_numbers.format_decimal(value, "#,##0.00", locale=self.locale)
        if isinstance(value, (list, tuple, set)):
            return ", ".join(self(getattr(v, "name", v)) for v in value)
        return plain_value(value)  # subclasses and anything else: the general path


class ColumnFormatter:
    """How one list column turns a record into a ``Cell``: the field's kind (custom field, owner,
    reference, choice, plain) is decided once per page instead of once per cell. Same result as
    ``record_cell``."""

    def __init__(self, spec, name, lookups, text: ValueText, urls: dict):
        self.spec, self.name, self.lookups, self.text = spec, name, lookups, text
        self.custom = custom_display.is_custom_name(name)
        self.owner = not self.custom and is_owner_field(spec, name)
        self.reference = None if self.custom else reference_of(spec, name)
        if self.reference and self.reference not in urls:
            urls[self.reference] = record_url_maker(self.reference)
        self.reference_url = urls.get(self.reference)
        fld = None if self.custom else spec.field(name)
        # choice value -> translated label, once per page (the first match wins, as in choice_label)
        self.choices = {}
        for value, label_ in (fld.choices or []) if fld is not None else []:
            self.choices.setdefault(value, str(label_))

    def __call__(self, record) -> Cell:
        if self.custom:
            return custom_cell(self.spec, self.name, record_value(record, self.name), self.lookups)
        value = getattr(record, self.name, None)
        if value is None or value == "" or value == []:
            return Cell("", muted=True)
        if isinstance(value, int):
            if self.owner:
                return Cell(self.lookups.users.get(value, f"#{value}"))
            if self.reference:
                title = self.lookups.titles.get((self.reference, value))
                if title is None:
                    return Cell(_("(not visible)"), muted=True)
                return Cell(title, self.reference_url(value))
        if self.choices:
            try:
                label_ = self.choices.get(value)
            except TypeError:  # an unhashable value is never a choice
                label_ = None
            if label_ is not None:
                return Cell(label_)
        return Cell(self.text(value))


@dataclass
class ListRow:
    """One row of a list page: the record, its detail link and its cells, already formatted."""

    record: object
    url: str
    cells: list


def list_rows(spec, records, columns, lookups) -> list[ListRow]:
    """The rows of a list page, formatted in one pass (what the template used to ask cell by cell)."""
    text, urls = ValueText(), {}
    formatters = [ColumnFormatter(spec, name, lookups, text, urls) for name in columns]
    detail_url = record_url_maker(spec.name)
    return [ListRow(record, detail_url(record.id), [format_(record) for format_ in formatters])
            for record in records]
