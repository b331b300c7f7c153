"""Marshmallow schemas: one per entity (form, API, import, export) and the inputs of the module's own forms.

Customer, currency, owner and the stored totals are copied or computed by the services: dump-only here, so
nobody can type them (the copy rule lives in ``services``; a mismatch is refused at the field there)."""
import datetime as dt

from marshmallow import Schema, fields, pre_load, validate

from core.i18n import _l
from core.money import CURRENCIES, default_currency
from core.schemas import OwnedSchema, Text, one_of, text_field

MAX_AMOUNT = 10**16 - 1
POSITIVE = validate.Range(min=0.01, max=MAX_AMOUNT, error=_l("Must be between {min} and {max}."))

PLAN_STATUS_CHOICES = [("unpaid", _l("Unpaid")), ("partial", _l("Partially paid")), ("paid", _l("Paid"))]
# "prereceipt" rows are made by applying a pre-receipt, never typed: not offered on the payment form
METHOD_CHOICES = [
    ("bank_transfer", _l("Bank transfer")), ("acceptance", _l("Bank acceptance bill")), ("cash", _l("Cash")),
    ("cheque", _l("Cheque")), ("alipay", _l("Alipay")), ("wechat", _l("WeChat Pay")), ("card", _l("Card")),
    ("other", _l("Other")),
]
PRERECEIPT_METHOD = ("prereceipt", _l("Pre-receipt applied"))
ALL_METHOD_CHOICES = METHOD_CHOICES + [PRERECEIPT_METHOD]
CURRENCY_CHOICES = list(CURRENCIES.items())


def _amount(required=True):
    # no ``places``: marshmallow would round 10.005 silently; the services refuse more decimals than the
    # currency has, at the field
    return fields.Decimal(as_string=True, required=required, validate=POSITIVE)


def _today():
    return dt.date.today()


class _BlankIsMissing:
    """Blank form inputs of optional numbers/dates/choices mean "not given". ``computed_keys`` are stored
    totals the services compute: the generic form carries them in hidden inputs (for the list labels), so
    they are dropped from any input instead of being loaded — typing them changes nothing."""

    blank_keys: tuple = ()
    computed_keys: tuple = ()

    @pre_load
    def _blank(self, data, **kwargs):
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in self.computed_keys
                    and not (k in self.blank_keys and isinstance(v, str) and not v.strip())}
        return data


class PaymentPlanSchema(_BlankIsMissing, OwnedSchema):
    blank_keys = ("contract_id", "order_id", "instalment", "customer_id", "currency")
    computed_keys = ("received_amount", "status")
    owner_id = fields.Integer(dump_only=True)
    contract_id = fields.Integer(allow_none=True, load_default=None)
    order_id = fields.Integer(allow_none=True, load_default=None)
    # copied from the contract/order; given, it must match (a mismatch is an error at the field)
    customer_id = fields.Integer(allow_none=True, load_default=None)
    currency = fields.String(allow_none=True, load_default=None)
    # not given: the next number after the parent's last instalment
    instalment = fields.Integer(allow_none=True, load_default=None,
                                validate=validate.Range(min=1, max=999, error=_l("Must be between {min} and {max}.")))
    title = text_field(200)
    due_on = fields.Date(required=True)
    amount = _amount()
    received_amount = fields.Decimal(places=2, as_string=True, dump_only=True)
    status = fields.String(dump_only=True, validate=one_of(PLAN_STATUS_CHOICES))


class PaymentSchema(_BlankIsMissing, OwnedSchema):
    blank_keys = ("customer_id", "currency", "received_on", "method")
    computed_keys = ("contract_id", "order_id", "prereceipt_id")
    owner_id = fields.Integer(dump_only=True)
    plan_id = fields.Integer(required=True)
    # shown on the form (prefilled from the plan) and checked against it: a mismatch is an error at the field
    customer_id = fields.Integer(allow_none=True, load_default=None)
    currency = fields.String(allow_none=True, load_default=None)
    contract_id = fields.Integer(dump_only=True)
    order_id = fields.Integer(dump_only=True)
    prereceipt_id = fields.Integer(dump_only=True)
    amount = _amount()
    received_on = fields.Date(load_default=_today)
    # "prereceipt" passes the schema so that the service can say where such payments come from
    method = fields.String(load_default="bank_transfer", validate=one_of(ALL_METHOD_CHOICES))
    reference = text_field(100)
    note = text_field(500)
    overpayment = fields.Boolean(load_default=False)
    overpayment_reason = text_field(500)


class PrereceiptSchema(_BlankIsMissing, OwnedSchema):
    blank_keys = ("currency", "received_on", "method")
    computed_keys = ("applied_amount",)
    owner_id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(required=True)
    currency = fields.String(load_default=default_currency,
                             validate=validate.OneOf(list(CURRENCIES), error=_l("Choose one of the currencies.")))
    amount = _amount()
    applied_amount = fields.Decimal(places=2, as_string=True, dump_only=True)
    received_on = fields.Date(load_default=_today)
    method = fields.String(load_default="bank_transfer", validate=one_of(METHOD_CHOICES))
    reference = text_field(100)
    note = text_field(500)


class ApplySchema(Schema):
    """Input of "apply a pre-receipt to a plan"."""

    plan_id = fields.Integer(required=True)
    amount = _amount()
    applied_on = fields.Date(load_default=_today)
    note = Text(allow_none=True, load_default=None, validate=validate.Length(max=2000))
