"""List pages: reading the query arguments (q, sort, f_<field>, cursor, limit) and building the controls.

The same parsing serves the HTML list and the CSV export, so an export holds exactly the listed rows.
Hidden fields (procurement cost for salespeople) are never columns, filters or sort keys.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask import request

from core import services
from core.customfields import web as custom_web
from core.i18n import _
from core.web import display
from core.web.common import MAX_ID, hidden_fields, page_limit, scope
from core.web.pickers import owner_options, reference_picker

TRUE_VALUES = {"1", "true", "yes", "on", "y"}
FALSE_VALUES = {"0", "false", "no", "off", "n"}
MAX_SEARCH_LENGTH = 200


@dataclass
class ListArgs:
    """The list's state as given in the URL, already cleaned."""

    q: str = ""
    sort: str = "-id"
    filters: dict = field(default_factory=dict)  # field -> typed value
    raw_filters: dict = field(default_factory=dict)  # field -> text as typed (to show it again)
    cursor: str | None = None
    limit: int = 50

    def query_args(self, **changes) -> dict:
        """URL arguments for a link to this list with ``changes`` (None removes an argument)."""
        args = {"q": self.q or None, "sort": self.sort if self.sort != "-id" else None,
                "limit": self.limit if "limit" in request.args else None, "cursor": None}
        args.update({f"f_{name}": raw for name, raw in self.raw_filters.items()})
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}


def default_columns(spec) -> list[str]:
    hidden = hidden_fields(spec)
    return [name for name in spec.list_columns if name not in hidden]


def choosable_columns(spec) -> list[str]:
    """Columns a user may pick in the column chooser: the defaults, the other fields, the custom fields."""
    hidden = hidden_fields(spec)
    others = [f.name for f in spec.fields if f.name not in hidden and f.widget not in ("textarea", "tags")]
    return list(dict.fromkeys(default_columns(spec) + others))


def visible_columns(spec) -> list[str]:
    """The user's chosen columns (custom fields included), else the entity's default columns."""
    return custom_web.chosen_columns(spec, default_columns(spec), scope().user_id,
                                     choosable=choosable_columns(spec))


def sortable_fields(spec) -> set[str]:
    hidden = hidden_fields(spec)
    return {name for name in spec.sort_fields if name not in hidden and hasattr(spec.model, name)} | \
        custom_web.sortable_keys(spec)


def filterable_fields(spec) -> list[str]:
    hidden = hidden_fields(spec)
    return [name for name in spec.filter_fields if name not in hidden and hasattr(spec.model, name)]


def parse_list_args(spec) -> ListArgs:
    args = ListArgs(limit=page_limit())
    args.q = (request.args.get("q") or "").strip()[:MAX_SEARCH_LENGTH]
    sort = (request.args.get("sort") or "").strip()
    if sort.lstrip("-") in sortable_fields(spec):
        args.sort = sort
    for name in filterable_fields(spec):
        raw = (request.args.get(f"f_{name}") or "").strip()
        if not raw:
            continue
        try:
            args.filters[name] = coerce_filter(spec, name, raw)
        except (ValueError, InvalidOperation):
            continue  # an unusable filter value is ignored, never sent to the database
        args.raw_filters[name] = raw
    custom_filters, custom_raw = custom_web.parse_filters(spec, request.args)
    args.filters.update(custom_filters)
    args.raw_filters.update(custom_raw)
    args.cursor = request.args.get("cursor") or None
    return args


def column_type(spec, name):
    column = spec.model.__mapper__.columns.get(name)
    if column is None:
        return str
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def coerce_filter(spec, name, raw: str):
    """The typed value of a filter (raises ValueError when the text does not fit the column)."""
    python_type = column_type(spec, name)
    if python_type is bool:
        lowered = raw.lower()
        if lowered in TRUE_VALUES:
            return True
        if lowered in FALSE_VALUES:
            return False
        raise ValueError(raw)
    if python_type is int:
        number = int(raw)
        if abs(number) > MAX_ID:
            raise ValueError(raw)
        return number
    if python_type is Decimal:
        return Decimal(raw)
    if python_type is dt.datetime:
        raise ValueError("datetime filters are ranges, not equality")
    if python_type is dt.date:
        return dt.date.fromisoformat(raw)
    fld = spec.field(name)
    if fld is not None and fld.choices and raw not in {value for value, _label in fld.choices}:
        raise ValueError(raw)
    return raw[:200]


def list_statement(session, spec, args: ListArgs):
    return services.list_query(session, spec, filters=args.filters, search=args.q or None)


@dataclass
class FilterControl:
    """One filter input: ``kind`` is select, text, number, date or reference."""

    name: str
    label: str
    kind: str
    value: str = ""
    options: list = field(default_factory=list)  # [(value, label)]
    picker: object = None


def filter_controls(spec, args: ListArgs) -> list[FilterControl]:
    controls = []
    for name in filterable_fields(spec):
        control = FilterControl(name, display.label(spec, name), "text", args.raw_filters.get(name, ""))
        fld = spec.field(name)
        python_type = column_type(spec, name)
        if display.is_owner_field(spec, name):
            control.kind = "select"
            control.options = [(str(uid), uname) for uid, uname in owner_options(spec, "view")]
        elif display.reference_of(spec, name):
            control.kind = "reference"
            control.picker = reference_picker(display.reference_of(spec, name), control.value)
        elif fld is not None and fld.choices:
            control.kind = "select"
            control.options = [(value, str(label)) for value, label in fld.choices]
        elif python_type is bool:
            control.kind = "select"
            control.options = [("1", _("Yes")), ("0", _("No"))]
        elif python_type in (int, Decimal):
            control.kind = "number"
        elif python_type is dt.date:
            control.kind = "date"
        elif python_type is dt.datetime:
            continue
        controls.append(control)
    return controls + custom_web.filter_controls(spec, args.raw_filters)
