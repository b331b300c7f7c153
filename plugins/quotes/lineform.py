"""The lines editor of the quote form: rows typed as ``lines-<n>-<field>`` become the schema's ``lines``
list, and errors come back to the row and field they belong to.

Rows left completely blank are ignored (the form offers a few empty rows when JavaScript is off).
"""
from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from flask import current_app, g
from sqlalchemy import select

from core.i18n import plain
from core.models import Product
from core.web.pickers import reference_picker

HEADER_FIELDS = ("title", "customer_id", "contact_id", "opportunity_id", "project_id", "currency", "valid_until",
                 "owner_id", "terms", "notes")
LINE_FIELDS = ("product_id", "description", "quantity", "unit", "unit_price", "discount_percent",
               "tax_rate_percent")
# a blank row: nothing typed but (possibly prefilled) discount and tax rate
CONTENT_FIELDS = ("product_id", "description", "quantity", "unit", "unit_price")
OPTIONAL_NUMBERS = ("discount_percent", "tax_rate_percent")
MAX_ROWS = 500
BLANK_ROWS = 3
_NAME = re.compile(r"^lines-(\d{1,4})-([a-z_]+)$")


def default_tax_rate() -> str:
    return str(current_app.config.get("QUOTES_DEFAULT_TAX_RATE", "13"))


def blank_rows(count: int = BLANK_ROWS) -> list[dict]:
    return [{"tax_rate_percent": default_tax_rate(), "discount_percent": "0"} for _ in range(count)]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return str(value)


def rows_from_lines(lines) -> list[dict]:
    rows = [{name: _text(getattr(line, name)) for name in LINE_FIELDS} for line in lines]
    return rows + blank_rows(1)


def rows_from_form(form) -> list[dict]:
    """The rows as typed, in the order of their numbers (gaps from removed rows are fine)."""
    rows: dict[int, dict] = {}
    for key in form.keys():
        match = _NAME.match(key)
        if match and match.group(2) in LINE_FIELDS:
            index = int(match.group(1))
            if index in rows or len(rows) < MAX_ROWS + 1:
                rows.setdefault(index, {})[match.group(2)] = (form.get(key) or "")[:1000]
    return [rows[index] for index in sorted(rows)]


def is_blank(row) -> bool:
    return not any((row.get(name) or "").strip() for name in CONTENT_FIELDS)


def schema_input(rows) -> list[dict]:
    """Schema input of the non-blank rows: "" means "not given" (the product's price, no discount...)."""
    result = []
    for row in rows:
        if is_blank(row):
            continue
        item = {"description": row.get("description", ""), "unit": row.get("unit", "")}
        for name in ("product_id", "unit_price"):
            text = (row.get(name) or "").strip()
            item[name] = text or None
        for name in ("quantity",) + OPTIONAL_NUMBERS:
            text = (row.get(name) or "").strip().replace(",", "")
            if text:
                item[name] = text
        result.append(item)
    return result


def line_errors(messages, rows) -> tuple[dict, list]:
    """marshmallow ``lines`` messages -> ({"<row>-<field>": [text]}, [messages about the lines as a whole]).
    Indexes of the messages count only the non-blank rows; keys count every row shown."""
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
            name = name if name in LINE_FIELDS else "description"
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


def _base_picker():
    if "_quotes_product_picker" not in g:
        g._quotes_product_picker = reference_picker("product")
    return g._quotes_product_picker


def render_rows(session, rows, errors, placeholder=None) -> list[dict]:
    """What the template draws for each row: its index, values, errors and product picker."""
    base = _base_picker()
    known = {str(rid) for rid, _title in base.options}
    missing = {row.get("product_id") for row in rows if row.get("product_id") and row.get("product_id") not in known}
    extra = {}
    ids = [int(text) for text in missing if text.isdigit() and len(text) < 19]
    if ids:
        extra = {str(p.id): f"{p.code} {p.name}" for p in session.execute(
            select(Product).where(Product.id.in_(ids))).scalars()}
    drawn = []
    for position, row in enumerate(rows):
        product = row.get("product_id") or ""
        picker = base
        if product and product not in known and product in extra:
            picker = dataclasses.replace(base, options=[(int(product), extra[product])] + list(base.options))
        drawn.append({"index": placeholder if placeholder is not None else position, "values": row,
                      "errors": {name: errors.get(f"{position}-{name}", []) for name in LINE_FIELDS},
                      "picker": picker})
    return drawn
