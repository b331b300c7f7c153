"""One marshmallow schema serves the quote form, the REST API and the export; lines are nested in it.

Numbers, revisions, status and every amount are dump-only: the services set them (statuses through the
status actions, amounts from the lines), never the caller.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.i18n import _l
from core.schemas import OwnedSchema, Text, text_field

STATUS_CHOICES = [
    ("draft", _l("Draft")), ("sent", _l("Sent")), ("accepted", _l("Accepted")),
    ("rejected", _l("Rejected")), ("expired", _l("Expired")),
]
PERCENT = validate.Range(min=0, max=100, error=_l("Enter a percentage between {min} and {max}."))


def places(count):
    """At most ``count`` decimal places: typed prices are never rounded silently."""
    def check(value: Decimal):
        if value.is_finite() and -value.as_tuple().exponent > count:
            raise ValidationError(str(_l("Use at most %(count)s decimal places.", count=count)))
    return check


def finite(value: Decimal):
    if not value.is_finite():
        raise ValidationError(str(_l("Not a valid number.")))


def amount(**kwargs):
    return fields.Decimal(as_string=True, **kwargs)


class QuoteLineSchema(Schema):
    """A line as typed: amounts are computed by ``services`` with ``core.money.line_amounts``."""

    id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    product_id = fields.Integer(allow_none=True, load_default=None)
    # Blank with a product: the product's name.
    description = text_field(500)
    quantity = amount(required=True, validate=[finite, places(3), validate.Range(
        min=Decimal("0.001"), max=Decimal("999999999999999"), error=_l("Enter a quantity above zero."))])
    unit = text_field(20)
    # Blank with a product: the product's price (when it is in the quote's currency).
    unit_price = amount(allow_none=True, load_default=None, validate=[finite, places(2), validate.Range(
        min=0, max=Decimal("9999999999999999"), error=_l("Enter a price of zero or more."))])
    discount_percent = amount(load_default=Decimal("0"), validate=[finite, places(2), PERCENT])
    tax_rate_percent = amount(load_default=Decimal("0"), validate=[finite, places(2), PERCENT])
    net = amount(dump_only=True)
    tax = amount(dump_only=True)
    gross = amount(dump_only=True)

    @validates_schema
    def _without_product(self, data, **kwargs):
        """A line without product needs its own description and price (reported with the other errors)."""
        if data.get("product_id") is not None:
            return
        errors = {}
        if not data.get("description"):
            errors["description"] = [str(_l("Describe the line or choose a product."))]
        if data.get("unit_price") is None:
            errors["unit_price"] = [str(_l("Enter a price."))]
        if errors:
            raise ValidationError(errors)


class QuoteSchema(OwnedSchema):
    # Given by the services: QT-<year>-<nnnn>, shared by the revisions of a quote.
    number = fields.String(dump_only=True)
    revision = fields.Integer(dump_only=True)
    parent_id = fields.Integer(dump_only=True)
    superseded = fields.Boolean(dump_only=True)
    status = fields.String(dump_only=True)
    sent_at = fields.DateTime(dump_only=True)
    decided_at = fields.DateTime(dump_only=True)
    customer_id = fields.Integer(required=True)
    contact_id = fields.Integer(allow_none=True, load_default=None)
    # Plain ids (no foreign key: those modules may be off); checked through the scoped session when on.
    opportunity_id = fields.Integer(allow_none=True, load_default=None)
    project_id = fields.Integer(allow_none=True, load_default=None)
    title = text_field(200, required=True)
    # Blank: the default currency; checked against core.money.CURRENCIES by the services.
    currency = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(
        r"^[A-Z]{3}$", error=_l("Use a three-letter currency code such as CNY.")))
    # Blank: today plus the configured validity (QUOTES_VALIDITY_DAYS, 30 days).
    valid_until = fields.Date(allow_none=True, load_default=None)
    terms = Text(allow_none=True, validate=validate.Length(max=20000))
    notes = Text(allow_none=True, validate=validate.Length(max=20000))
    subtotal = amount(dump_only=True)
    tax_total = amount(dump_only=True)
    total = amount(dump_only=True)
    # None (absent): the lines stay as they are; a list replaces them all.
    lines = fields.List(fields.Nested(QuoteLineSchema), load_default=None, validate=validate.Length(
        max=500, error=_l("At most {max} lines.")))


class MailSchema(Schema):
    """The "send by e-mail" form."""

    to = fields.List(fields.Email(), required=True, validate=validate.Length(
        min=1, max=20, error=_l("Enter between {min} and {max} addresses.")))
    subject = text_field(200, required=True)
    message = Text(allow_none=True, load_default=None, validate=validate.Length(max=20000))
    language = fields.String(load_default="zh_CN", validate=validate.OneOf(["zh_CN", "en"]))
