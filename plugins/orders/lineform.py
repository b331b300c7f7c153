"""The lines editor of the order form: rows typed as ``lines-<n>-<field>`` become the schema's ``lines``
list, and errors come back to the row and field they belong to. Rows left completely blank are ignored
(the form offers a few empty rows, so it works without JavaScript too)."""
from __future__ import annotations

import re
from decimal import Decimal

from flask import g

from core.i18n import plain
from core.web.pickers import reference_picker

HEADER_FIELDS = ("number", "customer_id", "contact_id", "contract_id", "status", "currency", "ordered_on",
                 "free_shipping", "external_ref", "owner_id", "remark")
LINE_FIELDS = ("id", "product_id", "description", "quantity", "unit", "unit_price", "discount_percent",
               "tax_rate_percent")
CONTENT_FIELDS = ("id", "product_id", "description", "quantity", "unit", "unit_price")
MAX_ROWS = 500
BLANK_ROWS = 3
_NAME = re.compile(r"^lines-(\d{1,4})-([a-z_]+)$")


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return str(value)


def blank_rows(count: int = BLANK_ROWS) -> list[dict]:
    return [{} for _ in range(count)]


def rows_from_lines(lines) -> list[dict]:
    return [{name: as_text(getattr(line, name)) for name in LINE_FIELDS} for line in lines] + blank_rows(2)


def rows_from_form(form) -> list[dict]:
    """The rows as typed, in the order of their numbers (gaps left by removed rows are fine)."""
    rows: dict[int, dict] = {}
    for key in form.keys():
        match = _NAME.match(key)
        if match and match.group(2) in LINE_FIELDS:
            index = int(match.group(1))
            if index in rows or len(rows) <= MAX_ROWS:
                rows.setdefault(index, {})[match.group(2)] = (form.get(key) or "")[:1000]
    return [rows[index] for index in sorted(rows)]


def is_blank(row) -> bool:
    return not any((row.get(name) or "").strip() for name in CONTENT_FIELDS)


def schema_input(rows) -> list[dict]:
    """Schema input of the non-blank rows ("" = not given: the product's price, no discount...)."""
    result = []
    for row in rows:
        if is_blank(row):
            continue
        item = {"description": row.get("description", ""), "unit": row.get("unit", "")}
        for name in ("id", "product_id", "quantity", "unit_price", "discount_percent", "tax_rate_percent"):
            value = (row.get(name) or "").strip().replace(",", "")
            item[name] = value or (None if name != "quantity" else "")
        if not item["quantity"]:
            item.pop("quantity")  # reported as "required" at the field
        result.append(item)
    return result


def line_errors(messages, rows) -> tuple[dict, list]:
    """marshmallow ``lines`` messages -> ``({"<row>-<field>": [text]}, [messages about all lines])``.
    Message indexes count the non-blank rows only; keys count every row shown."""
    if not messages:
        return {}, []
    messages = plain(messages)
    if isinstance(messages, (list, tuple)):
        return {}, [str(m) for m in messages]
    shown = [position for position, row in enumerate(rows) if not is_blank(row)]
    errors, general = {}, []
    for index, fields in messages.items():
        try:
            position = shown[int(index)]
        except (ValueError, IndexError):
            general += [str(m) for m in _flat(fields)]
            continue
        if not isinstance(fields, dict):
            errors[f"{position}-description"] = [str(m) for m in _flat(fields)]
            continue
        for name, field_messages in fields.items():
            name = name if name in LINE_FIELDS and name != "id" else "description"
            errors.setdefault(f"{position}-{name}", []).extend(str(m) for m in _flat(field_messages))
    return errors, general


def _flat(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from _flat(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _flat(inner)
    else:
        yield value


def _product_picker():
    if "_orders_product_picker" not in g:
        g._orders_product_picker = reference_picker("product")
    return g._orders_product_picker


def render_rows(rows, errors, placeholder=None) -> list[dict]:
    """What the template draws for each row: its index, values, errors and the product picker."""
    picker = _product_picker()
    return [{"index": placeholder if placeholder is not None else position, "values": row,
             "errors": {name: errors.get(f"{position}-{name}", []) for name in LINE_FIELDS}, "picker": picker}
            for position, row in enumerate(rows)]
