"""Marshmallow schemas: the order (generic form, REST API, import, export; its ``lines`` are load-only),
an order line, a shipment, a review and the batch actions."""
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from core.i18n import _l
from core.money import CURRENCIES
from core.schemas import OwnedSchema, Text, one_of, text_field
from plugins.orders.statuses import SHIPMENT_STATUS_CHOICES, STATUS_CHOICES

CURRENCY_CHOICES = list(CURRENCIES.items())
MAX_AMOUNT = 10**15
MAX_QUANTITY = 10**14
PERCENT = validate.Range(min=0, max=100, error=_l("Must be between {min} and {max}."))
FOLLOW_UP_STATUS_CHOICES = [("open", _l("To follow up")), ("done", _l("Done"))]
RATING_CHOICES = [(value, str(value)) for value in range(1, 6)]
BATCH_KINDS = ("remark", "status", "free_shipping")


def max_places(places: int):
    """Refuse more decimals than the column keeps (rounding a typed price silently would change it)."""
    def check(value):
        if value is not None and value.as_tuple().exponent < -places:
            raise ValidationError(_l("Use at most %(places)d decimal places.", places=places))
    return check


class _Blanks:
    """Blank optional numbers and choices from HTML forms mean "no value"; currency codes in upper case."""

    BLANK_IS_NONE = ()

    @pre_load
    def _blanks(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in self.BLANK_IS_NONE:
            if isinstance(data.get(key), str) and not data[key].strip():
                data[key] = None
        if isinstance(data.get("currency"), str):
            code = data.pop("currency").strip().upper()
            if code:
                data["currency"] = code
        return data


class LineSchema(_Blanks, Schema):
    """One order line as typed (form or API); amounts are computed by the service, never loaded."""

    BLANK_IS_NONE = ("id", "product_id", "unit_price", "discount_percent", "tax_rate_percent")

    id = fields.Integer(allow_none=True, load_default=None)  # an existing line being edited
    product_id = fields.Integer(allow_none=True, load_default=None)
    description = text_field(500)
    quantity = fields.Decimal(required=True, as_string=True, validate=[validate.Range(
        min=0, min_inclusive=False, max=MAX_QUANTITY, error=_l("Must be more than 0.")), max_places(3)])
    unit = text_field(20)
    # blank: the product's price
    unit_price = fields.Decimal(allow_none=True, load_default=None, as_string=True, validate=[
        validate.Range(min=0, max=MAX_AMOUNT, error=_l("Must be between {min} and {max}.")), max_places(2)])
    discount_percent = fields.Decimal(allow_none=True, load_default=None, as_string=True,
                                      validate=[PERCENT, max_places(2)])
    tax_rate_percent = fields.Decimal(allow_none=True, load_default=None, as_string=True,
                                      validate=[PERCENT, max_places(2)])
    net = fields.Decimal(dump_only=True, as_string=True)
    tax = fields.Decimal(dump_only=True, as_string=True)
    gross = fields.Decimal(dump_only=True, as_string=True)
    shipped_quantity = fields.Decimal(dump_only=True, as_string=True)


class OrderSchema(_Blanks, OwnedSchema):
    BLANK_IS_NONE = ("contact_id", "contract_id", "ordered_on")

    # Blank: the next number of the year (SO-2026-000001) is given when the order is saved.
    number = text_field(40)
    customer_id = fields.Integer(required=True)
    contact_id = fields.Integer(allow_none=True, load_default=None)
    contract_id = fields.Integer(allow_none=True, load_default=None)
    quote_id = fields.Integer(dump_only=True)  # set by "convert a quote" only
    currency = fields.String(load_default=None, validate=one_of(CURRENCY_CHOICES))
    status = fields.String(load_default="pending_payment", validate=one_of(STATUS_CHOICES))
    ordered_on = fields.Date(allow_none=True, load_default=None)
    free_shipping = fields.Boolean(load_default=False)
    remark = Text(allow_none=True, validate=validate.Length(max=5000))
    external_ref = text_field(64)
    subtotal = fields.Decimal(dump_only=True, as_string=True)
    tax_total = fields.Decimal(dump_only=True, as_string=True)
    total = fields.Decimal(dump_only=True, as_string=True)
    exception_flag = fields.Boolean(dump_only=True)
    reminded_at = fields.DateTime(dump_only=True)
    # The lines, replacing the current ones (lines with an ``id`` are changed in place). Load-only: list
    # pages and exports never read them (no query per order).
    lines = fields.List(fields.Nested(LineSchema), load_default=None, load_only=True)


class ShipmentSchema(_Blanks, Schema):
    BLANK_IS_NONE = ("shipped_on",)

    shipped_on = fields.Date(required=True)
    carrier = text_field(100)
    tracking_number = text_field(100)
    note = Text(allow_none=True, validate=validate.Length(max=2000))


class ShipmentStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["delivered", "returned"]))
    on = fields.Date(load_default=None)


class ReviewSchema(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5, error=_l(
        "Choose a rating from {min} to {max}.")))
    comment = Text(allow_none=True, validate=validate.Length(max=5000))
    follow_up = Text(allow_none=True, validate=validate.Length(max=5000))
    follow_up_status = fields.String(load_default="open", validate=one_of(FOLLOW_UP_STATUS_CHOICES))


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=one_of(STATUS_CHOICES))
    version = fields.Integer(load_default=None)


SHIPMENT_STATUS_LABELS = dict(SHIPMENT_STATUS_CHOICES)
