"""Query parameters of API lists: typed filters, ``q``, ``sort``, ``cursor``, ``limit``.

Anything else is refused with 400 and ``{"fields": {name: [...]}}``, so a misspelt filter never silently
returns everything. Values that the database could not take (integers past the column's range, NUL
characters, cursors that decode to the wrong types) are refused here too: they must answer 400, never 500.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from marshmallow import ValidationError

from core.api.columns import int_fits, is_int, problem
from core.api.errors import api_abort
from core.i18n import _l
from core.services import decode_cursor

RESERVED = ("q", "sort", "cursor", "limit")
MAX_SEARCH_LENGTH = 200


@dataclass
class ListParams:
    filters: dict
    search: str | None
    sort: str
    cursor: str | None
    limit: int


def parse_list_params(args, *, model, filter_fields: dict, sort_fields, hidden=frozenset(),
                      default_sort="-id") -> ListParams:
    """Read ``args`` (a MultiDict) against the allowed names; 400 on anything unknown or malformed.

    ``filter_fields`` maps a filter name to the marshmallow field that types its value (None: plain text).
    ``hidden`` are fields the caller may not see: refused exactly like unknown names (no oracle).
    """
    errors: dict[str, list] = {}
    allowed = {name for name in filter_fields if name not in hidden}
    for name in args:
        if name not in allowed and name not in RESERVED:
            errors[name] = [str(_l("Unknown query parameter."))]
        elif len(args.getlist(name)) > 1:
            errors[name] = [str(_l("Give this parameter only once."))]
        elif "\x00" in args[name]:
            errors[name] = [str(_l("Invalid value."))]
    filters = {}
    for name in allowed & set(args):
        if name in errors:
            continue
        try:
            filters[name] = _typed(model, name, filter_fields[name], args[name])
        except ValidationError as err:
            errors[name] = [str(m) for m in _messages(err)]
    search = _search(args.get("q"), errors)
    sort = _sort(args.get("sort"), sort_fields, hidden, default_sort, errors)
    limit = _limit(args.get("limit"), errors)
    cursor = args.get("cursor") or None
    if cursor and "cursor" not in errors and "sort" not in errors:
        _check_cursor(model, cursor, sort.lstrip("-"), errors)
    if errors:
        api_abort(400, fields=errors)
    return ListParams(filters=filters, search=search, sort=sort, cursor=cursor, limit=limit)


def _messages(err: ValidationError):
    messages = err.messages
    if isinstance(messages, dict):
        return [m for ms in messages.values() for m in ms]
    return messages if isinstance(messages, list) else [messages]


def _typed(model, name, field, raw):
    """The filter value as the schema field types it (int, bool, date, choice...)."""
    if field is None:
        return raw
    value = field.deserialize(raw)
    message = problem(model, name, value)
    if message is not None:
        raise ValidationError(message)
    return value


def _search(raw, errors):
    if raw is None:
        return None
    if len(raw) > MAX_SEARCH_LENGTH:
        errors["q"] = [str(_l("At most {max} characters.").format(max=MAX_SEARCH_LENGTH))]
    return raw.strip() or None


def _sort(raw, sort_fields, hidden, default, errors) -> str:
    if raw is None or raw == "":
        return default
    name = raw[1:] if raw.startswith("-") else raw
    if name not in sort_fields or name in hidden:
        errors["sort"] = [str(_l("Cannot sort by this field."))]
        return default
    return raw


def _limit(raw, errors) -> int:
    config = current_app.config
    maximum = int(config["MAX_PAGE_SIZE"])
    if raw is None or raw == "":
        return min(int(config["PAGE_SIZE"]), maximum)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= maximum:
        errors["limit"] = [str(_l("Must be a whole number from 1 to {max}.").format(max=maximum))]
        return 1
    return int(raw)


def _check_cursor(model, cursor, sort_name, errors):
    """A cursor is ours only if it decodes to (value of the sort column's type, id in range)."""
    invalid = [str(_l("Invalid page cursor."))]
    try:
        last_value, last_id = decode_cursor(cursor)
    except ValidationError:
        errors["cursor"] = invalid
        return
    if not is_int(last_id) or not int_fits(model, "id", last_id):
        errors["cursor"] = invalid
    elif sort_name != "id" and last_value is not None and not _value_fits(model, sort_name, last_value):
        errors["cursor"] = invalid


def _value_fits(model, name, value) -> bool:
    """Could ``value`` be the sort column's value of a real row? (Anything else is a forged cursor.)"""
    if name.startswith("cf_"):  # a custom field (module builder): a JSON scalar
        return isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) <= 1000
    try:
        python_type = getattr(model, name).type.python_type
    except (AttributeError, NotImplementedError):
        return False
    if python_type is bool:
        return isinstance(value, bool)
    if python_type is int:
        return is_int(value) and problem(model, name, value) is None
    if python_type is Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return False
        try:
            return problem(model, name, Decimal(str(value))) is None
        except (InvalidOperation, ValueError):
            return False
    if python_type in (str, dt.date, dt.datetime):
        return isinstance(value, str) and len(value) <= 1000 and problem(model, name, value) is None
    return False


def schema_filter_fields(schema, names) -> dict:
    """``{name: marshmallow field}`` for filter names; a name the schema lacks is filtered as plain text."""
    return {name: schema.fields.get(name) for name in names}
