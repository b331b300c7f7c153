"""One marshmallow schema per entity serves the generic form, the REST API and the export of invoice requests
and invoice records. Rules that need the database (the source, what is left to invoice, unique numbers) live
in ``services``."""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from core.i18n import _l
from core.schemas import OwnedSchema, Text, text_field, values

TYPE_CHOICES = [("normal", _l("Normal invoice (普通发票)")), ("special", _l("Special VAT invoice (专用发票)"))]
REQUEST_STATUS_CHOICES = [("requested", _l("Requested")), ("approved", _l("Approved")),
                          ("rejected", _l("Rejected")), ("issued", _l("Issued"))]
INVOICE_STATUS_CHOICES = [("issued", _l("Issued")), ("void", _l("Void"))]

# 统一社会信用代码 (GB 32100-2015): 17 characters and a check character over this 31-character alphabet
# (no I, O, S, V, Z), weighted by 3^i mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are ``first17``."""
    total = sum(CREDIT_CODE_ALPHABET.index(char) * weight for char, weight in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str):
    """Why ``code`` is not a valid unified social credit code (a lazy message), or None."""
    if len(code) != 18:
        return _l("A tax number has 18 characters (you typed %(count)s).", count=len(code))
    if any(char not in CREDIT_CODE_ALPHABET for char in code):
        return _l("A tax number holds only digits and capital letters (not I, O, S, V or Z).")
    if credit_code_check_character(code[:17]) != code[17]:
        return _l("This tax number is mistyped: its last character does not match the check character.")
    return None


class TaxNumber(fields.String):
    """A 统一社会信用代码: spaces removed, upper-cased, checked; blank means "none"."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str):
            value = "".join(value.split()).upper() or None
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        problem = credit_code_problem(code)
        if problem is not None:
            raise ValidationError(str(problem))
        return code


def _money(required=False, **kwargs):
    return fields.Decimal(places=2, as_string=True, required=required, allow_none=not required,
                          validate=validate.Range(min=Decimal("0.01"), max=Decimal(10**16 - 1),
                                                  error=_l("Must be between {min} and {max}.")), **kwargs)


class _InvoiceDetailsSchema(OwnedSchema):
    """What requests and invoices share: the source, the buyer's details and the invoice type."""

    contract_id = fields.Integer(allow_none=True, load_default=None)
    order_id = fields.Integer(allow_none=True, load_default=None)
    payment_id = fields.Integer(allow_none=True, load_default=None)
    # Copied from the source; when given, it must be the source's.
    customer_id = fields.Integer(allow_none=True, load_default=None)
    currency = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(
        r"^[A-Z]{3}$", error=_l("Use a three-letter currency code such as CNY.")))
    # blank: the request's type when issued from one, else normal
    type = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(values(TYPE_CHOICES) + [None]))
    title = text_field(200)
    tax_number = TaxNumber(allow_none=True, load_default=None)
    bank = text_field(200)
    bank_account = text_field(60)
    address_phone = text_field(255)
    note = Text(allow_none=True, validate=validate.Length(max=5000))

    @pre_load
    def _normalise_currency(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data = {**data, "currency": data["currency"].strip().upper() or None}
        return data


class InvoiceRequestSchema(_InvoiceDetailsSchema):
    amount = _money(required=True)
    # Changed only by the approve / reject / issue actions (services refuse any other change).
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(values(REQUEST_STATUS_CHOICES) + [None]))
    decision_reason = fields.String(dump_only=True)
    decided_by_id = fields.Integer(dump_only=True)
    decided_at = fields.DateTime(dump_only=True)


class InvoiceSchema(_InvoiceDetailsSchema):
    request_id = fields.Integer(allow_none=True, load_default=None)
    number = text_field(40, required=True)
    issued_on = fields.Date(allow_none=True, load_default=None)  # blank: today
    amount = _money(required=True)
    tax_rate = fields.Decimal(places=2, as_string=True, load_default=Decimal("13.00"), validate=validate.Range(
        min=0, max=100, error=_l("Must be between {min} and {max}.")))
    # blank: computed from the amount and the rate (amount × rate / (100 + rate))
    tax_amount = fields.Decimal(places=2, as_string=True, allow_none=True, load_default=None,
                                validate=validate.Range(min=0, error=_l("Must be at least {min}.")))
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(values(INVOICE_STATUS_CHOICES) + [None]))
    over_invoice = fields.Boolean(load_default=False)
    over_invoice_reason = Text(allow_none=True, validate=validate.Length(max=2000))
    void_reason = fields.String(dump_only=True)
    voided_by_id = fields.Integer(dump_only=True)
    voided_at = fields.DateTime(dump_only=True)


class ReasonSchema(Schema):
    """Input of the "reject" and "void" forms."""

    reason = Text(required=True, validate=validate.Length(min=1, max=2000))
