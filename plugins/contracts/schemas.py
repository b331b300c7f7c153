"""Marshmallow schemas: one for contracts (form, REST API, import, export) and one for a delivery-plan
milestone (its form on the contract page and its API)."""
from marshmallow import Schema, fields, pre_load, validate

from core.i18n import _l
from core.money import CURRENCIES, default_currency
from core.schemas import OwnedSchema, Text, one_of, text_field

STATUS_CHOICES = [("draft", _l("Draft")), ("active", _l("In force")), ("completed", _l("Completed")),
                  ("terminated", _l("Terminated")), ("cancelled", _l("Cancelled"))]
PLAN_STATUS_CHOICES = [("planned", _l("Planned")), ("in_progress", _l("In progress")),
                       ("delivered", _l("Handed over")), ("cancelled", _l("Cancelled"))]
MAX_AMOUNT = 10**16 - 1
AMOUNT_RANGE = validate.Range(min=0, max=MAX_AMOUNT, error=_l("Must be between {min} and {max}."))


CURRENCY_CHOICES = list(CURRENCIES.items())


class _CurrencyInput:
    @pre_load
    def _normalise_currency(self, data, **kwargs):
        # A blank currency means "the default one"; codes are compared in upper case.
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            code = data["currency"].strip().upper()
            data = {k: v for k, v in data.items() if k != "currency"}
            if code:
                data["currency"] = code
        return data


class ContractSchema(_CurrencyInput, OwnedSchema):
    # Blank: the next number of the year (HT-2026-0001) is given when the contract is saved.
    number = text_field(40)
    title = text_field(200, required=True)
    customer_id = fields.Integer(required=True)
    contact_id = fields.Integer(allow_none=True, load_default=None)
    # Set only by "convert a quote" and "renew": never typed, never sent through the API.
    quote_id = fields.Integer(dump_only=True)
    previous_id = fields.Integer(dump_only=True)
    # Checked through the caller's scope when the opportunities / projects module is enabled.
    opportunity_id = fields.Integer(allow_none=True, load_default=None)
    project_id = fields.Integer(allow_none=True, load_default=None)
    currency = fields.String(load_default=default_currency, validate=validate.OneOf(
        list(CURRENCIES), error=_l("Choose one of the listed currencies.")))
    # No rounding here: an amount with more decimals than its currency has is an error (services), not a
    # silent change of what was typed.
    amount = fields.Decimal(as_string=True, required=True, validate=AMOUNT_RANGE)
    signed_on = fields.Date(allow_none=True, load_default=None)
    starts_on = fields.Date(allow_none=True, load_default=None)
    ends_on = fields.Date(allow_none=True, load_default=None)
    renewal_on = fields.Date(allow_none=True, load_default=None)
    terms = Text(allow_none=True, validate=validate.Length(max=50000))
    # Changed through the status actions; services.on_save refuses a jump the flow does not allow.
    status = fields.String(load_default="draft", validate=one_of(STATUS_CHOICES))


class DeliveryPlanSchema(Schema):
    """A milestone as typed in the form on the contract page or sent to the API."""

    title = text_field(200, required=True)
    due_on = fields.Date(required=True)
    amount = fields.Decimal(as_string=True, allow_none=True, load_default=None, validate=AMOUNT_RANGE)
    items = Text(allow_none=True, load_default=None, validate=validate.Length(max=20000))
    status = fields.String(load_default="planned", validate=one_of(PLAN_STATUS_CHOICES))
    delivered_on = fields.Date(allow_none=True, load_default=None)
    version = fields.Integer(load_default=None)


class DeliveryPlanOutSchema(Schema):
    """A milestone as the API answers it."""

    id = fields.Integer()
    contract_id = fields.Integer()
    position = fields.Integer()
    title = fields.String()
    due_on = fields.Date()
    amount = fields.Decimal(places=2, as_string=True, allow_none=True)
    items = fields.String(allow_none=True)
    status = fields.String()
    delivered_on = fields.Date(allow_none=True)
    version = fields.Integer()
