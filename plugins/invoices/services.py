"""Business rules of invoice requests and invoice records.

Every function takes the caller's session, so the data scope applies to every row it reads: a source, request
or invoice the caller cannot see is "not found", exactly like a missing one. Functions build the change and
flush; the view (or core's generic create/update) commits once, so an error leaves nothing half-saved.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import func, inspect as sa_inspect, or_, select

from core import audit, services as core_services
from core.db import utcnow
from core.i18n import _l
from core.money import quantize
from core.models import Customer
from core.scope import current_scope, get_scoped, system_scope
from plugins.invoices.models import SOURCE_COLUMNS, Invoice, InvoiceRequest

DETAIL_COLUMNS = ("type", "title", "tax_number", "bank", "bank_account", "address_phone")
SPECIAL_REQUIRES = ("tax_number", "bank", "bank_account", "address_phone")
ZERO = Decimal("0.00")


def _error(field, message):
    return ValidationError({field: [str(message)]})


# ------------------------------------------------------------------ sources

@dataclass
class Source:
    """The contract, order or payment an invoice belongs to, and what an invoice copies from it."""

    column: str  # contract_id | order_id | payment_id
    record: object
    amount: Decimal  # contract amount, order total, payment amount

    @property
    def id(self):
        return self.record.id

    @property
    def customer_id(self):
        return self.record.customer_id

    @property
    def currency(self):
        return self.record.currency


def source_models():
    """{source column: model}; imported here because the upstream modules import nothing of ours."""
    from plugins.contracts.models import Contract
    from plugins.orders.models import Order
    from plugins.payments.models import Payment
    return {"contract_id": Contract, "order_id": Order, "payment_id": Payment}


def source_amount(column, record) -> Decimal:
    return (record.total if column == "order_id" else record.amount) or ZERO


def load_source(session, column, record_id, lock=False) -> Source | None:
    """The source through the caller's scope (None when missing or not visible). ``lock``: FOR UPDATE, so two
    invoices of the same source are checked against what is left one after the other."""
    model = source_models()[column]
    stmt = select(model).where(model.id == record_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update()
    record = session.execute(stmt).unique().scalar_one_or_none()
    return Source(column, record, source_amount(column, record)) if record is not None else None


def _chosen_source(session, record, lock=False) -> Source:
    given = [column for column in SOURCE_COLUMNS if getattr(record, column) is not None]
    if not given:
        raise _error("contract_id", _l("Choose what to invoice: a contract, an order or a payment."))
    if len(given) > 1:
        raise ValidationError({column: [str(_l("Choose only one: a contract, an order or a payment."))]
                               for column in given[1:]})
    source = load_source(session, given[0], getattr(record, given[0]), lock=lock)
    if source is None:
        raise _error(given[0], _l("Not found."))
    return source


def _copy_from_source(record, source: Source, data: dict) -> None:
    """Customer, currency and owner follow the source; a different customer or currency typed in is an error
    at its field (never silently replaced)."""
    if data.get("customer_id") is not None and data["customer_id"] != source.customer_id:
        raise _error("customer_id", _l("The customer must be the customer of the contract, order or payment."))
    if data.get("currency") and data["currency"] != source.currency:
        raise _error("currency", _l("The currency must be the currency of the source (%(currency)s).",
                                    currency=source.currency))
    record.customer_id, record.currency = source.customer_id, source.currency
    if source.record.owner_id is not None:
        record.owner_id, record.department_id = source.record.owner_id, source.record.department_id


def _check_minor_units(record) -> None:
    """An amount in yen has no cents: amounts must fit the currency's minor units (core.money)."""
    for column in ("amount", "tax_amount"):
        value = getattr(record, column, None)
        if value is not None and quantize(value, record.currency) != value:
            raise _error(column, _l("%(currency)s amounts have no more decimals than %(example)s.",
                                    currency=record.currency, example=format(quantize(0, record.currency), "f")))


def _fill_title(session, record) -> None:
    if record.title:
        return
    last = last_details(session, record.customer_id)
    record.title = last.get("title") or session.execute(
        select(Customer.name).where(Customer.id == record.customer_id)).scalar()
    if not record.title:  # a customer the user cannot see lends no name
        raise _error("title", _l("Enter the invoice title (the buyer's name)."))


def _check_special(record) -> None:
    """A special VAT invoice (专用发票) carries the buyer's tax number, bank, account, address and phone."""
    record.type = record.type or "normal"
    if record.type != "special":
        return
    missing = [column for column in SPECIAL_REQUIRES if not getattr(record, column)]
    if missing:
        raise ValidationError({column: [str(_l("Required for a special VAT invoice."))] for column in missing})


def _check_status_untouched(record, data, initial):
    """Status moves only through the actions (approve, reject, issue, void), never through a form or PATCH."""
    history = sa_inspect(record).attrs.status.history
    old = history.deleted[0] if history.deleted else None
    moved = old is not None and history.has_changes() if record.id is not None else \
        data.get("status") not in (None, initial)
    if moved:
        raise _error("status", _l("The status changes only through the buttons on the record's page."))
    return old


# ------------------------------------------------------------------ how much is left to invoice

def invoiced_amount(session, column, source_id, currency, exclude_id=None) -> Decimal:
    """Issued (not void) invoices of a source, counting those of what lies below it: a contract's orders and
    payments, an order's payments. Company-wide: invoices the caller cannot see still count."""
    models = source_models()
    Order, Payment = models["order_id"], models["payment_id"]
    stmt = select(func.coalesce(func.sum(Invoice.amount), 0)).where(Invoice.status == "issued")
    if column == "contract_id":
        orders = select(Order.id).where(Order.contract_id == source_id).execution_options(include_deleted=True)
        payments = select(Payment.id).where(or_(Payment.contract_id == source_id, Payment.order_id.in_(orders)))
        stmt = stmt.where(or_(Invoice.contract_id == source_id, Invoice.order_id.in_(orders),
                              Invoice.payment_id.in_(payments)))
    elif column == "order_id":
        payments = select(Payment.id).where(Payment.order_id == source_id)
        stmt = stmt.where(or_(Invoice.order_id == source_id, Invoice.payment_id.in_(payments)))
    else:
        stmt = stmt.where(Invoice.payment_id == source_id)
    if exclude_id is not None:
        stmt = stmt.where(Invoice.id != exclude_id)
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        # REPEATABLE READ would answer from the transaction's first snapshot: a locking read sees the invoices
        # committed while this one waited for the source's row lock (PostgreSQL's READ COMMITTED does anyway)
        stmt = stmt.with_for_update(read=True)
    with system_scope(session, f"invoices: already invoiced on {column} {source_id}"), session.no_autoflush:
        # SQLite may answer the SUM as a float: through str, then to the currency's minor units
        return quantize(Decimal(str(session.execute(stmt).scalar_one() or 0)), currency)


def remaining_amount(session, source: Source, exclude_id=None) -> Decimal:
    return source.amount - invoiced_amount(session, source.column, source.id, source.currency, exclude_id)


def last_details(session, customer_id) -> dict:
    """Title, tax number, bank, address and type of the customer's latest request the caller can see (to
    prefill the next one)."""
    if customer_id is None:
        return {}
    row = session.execute(select(InvoiceRequest).where(InvoiceRequest.customer_id == customer_id)
                          .order_by(InvoiceRequest.id.desc()).limit(1)).scalar_one_or_none()
    return {column: getattr(row, column) for column in DETAIL_COLUMNS} if row is not None else {}


def prefill(session, column, source_id) -> dict:
    """Form values of a new request on a source: the source, what is left to invoice, the customer's last
    invoicing details (empty when the source is not visible). Computed once per request: the button and the
    "Invoices" panel of a page both ask."""
    from flask import g, has_request_context
    cache = g.setdefault("_invoices_prefill", {}) if has_request_context() else {}
    if (column, source_id) not in cache:
        cache[(column, source_id)] = _prefill(session, column, source_id)
    return dict(cache[(column, source_id)])


def _prefill(session, column, source_id) -> dict:
    source = load_source(session, column, source_id)
    if source is None:
        return {}
    values = {column: source.id, "customer_id": source.customer_id, "currency": source.currency}
    left = remaining_amount(session, source)
    values["_left"] = left  # for the panel; dropped from the URL by ``prefill_url_values``
    if left > 0:
        values["amount"] = format(left, "f")
    values.update({k: v for k, v in last_details(session, source.customer_id).items() if v})
    return values


def prefill_url_values(values: dict) -> dict:
    return {key: value for key, value in values.items() if not key.startswith("_")}


def invoice_prefill(request: InvoiceRequest) -> dict:
    """Form values of the invoice recorded from an approved request."""
    values = {"request_id": request.id, "amount": format(request.amount, "f")}
    values.update({column: getattr(request, column) for column in (*SOURCE_COLUMNS, *DETAIL_COLUMNS)
                   if getattr(request, column) is not None})
    return values


# ------------------------------------------------------------------ requests (EntitySpec.on_save)

def on_save_request(session, record: InvoiceRequest, data: dict) -> None:
    """Rules of a request, on every path (form, API): one visible source; customer, currency and owner from
    it; special-invoice fields; only a waiting request may change."""
    with session.no_autoflush:  # the half-built record must not reach the database before it is checked
        _request_rules(session, record, data)


def _request_rules(session, record: InvoiceRequest, data: dict) -> None:
    old_status = _check_status_untouched(record, data, "requested")
    if record.id is not None and old_status is None and record.status != "requested":
        raise _error("_schema", _l("Only a request waiting for approval can be changed."))
    if record.id is None:
        record.status = "requested"
    source = _chosen_source(session, record)
    _copy_from_source(record, source, data)
    _check_minor_units(record)
    _fill_title(session, record)
    _check_special(record)
    left = remaining_amount(session, source)
    if record.amount is not None and record.amount > left:
        raise _error("amount", _l("More than is left to invoice on this record (%(left)s %(currency)s).",
                                  left=format(max(left, ZERO), "f"), currency=source.currency))


def _decide(session, spec, request_id, status, reason=None) -> InvoiceRequest:
    request = core_services.get(session, spec, request_id, action="approve")
    if request.status != "requested":
        raise _error("_schema", _l("This request has already been decided."))
    scope = current_scope(session)
    changes = {"status": [request.status, status]}
    if reason:
        changes["decision_reason"] = [request.decision_reason, reason]
    request.status, request.decision_reason = status, reason
    request.decided_by_id, request.decided_at = scope.user_id, utcnow()
    audit.record(session, spec.name, request.id, "update", scope.user_id, changes)
    session.flush()
    return request


def approve(session, spec, request_id) -> InvoiceRequest:
    """Approve a waiting request (permission ``invoices.request.approve`` over the request's owner)."""
    return _decide(session, spec, request_id, "approved")


def reject(session, spec, request_id, reason: str) -> InvoiceRequest:
    """Reject a waiting request; the reason is kept and shown to the requester."""
    return _decide(session, spec, request_id, "rejected", reason)


# ------------------------------------------------------------------ invoices (EntitySpec.on_save)

def _number_taken(session, record) -> bool:
    stmt = select(Invoice.id).where(Invoice.type == record.type, Invoice.number == record.number) \
        .execution_options(include_deleted=True)
    if record.id is not None:
        stmt = stmt.where(Invoice.id != record.id)
    with system_scope(session, "invoices: unique invoice number"), session.no_autoflush:
        return session.execute(stmt.limit(1)).first() is not None


def _from_request(session, record: Invoice, data: dict) -> InvoiceRequest | None:
    """An invoice made from an approved request takes its source and details (unless typed otherwise)."""
    if record.request_id is None:
        return None
    request = get_scoped(session, InvoiceRequest, record.request_id)
    if request is None:
        raise _error("request_id", _l("Not found."))
    if request.status != "approved":
        raise _error("request_id", _l("Only an approved request can be issued."))
    if not any(getattr(record, column) for column in SOURCE_COLUMNS):
        for column in SOURCE_COLUMNS:
            setattr(record, column, getattr(request, column))
    for column in DETAIL_COLUMNS:
        if column not in data or data[column] in (None, ""):
            setattr(record, column, getattr(request, column))
    if record.amount is None:
        record.amount = request.amount
    return request


def compute_tax(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """Tax inside a tax-included amount: amount × rate / (100 + rate), rounded by the one rule (core.money)."""
    return quantize(amount * rate / (Decimal(100) + rate), currency)


def on_save_invoice(session, record: Invoice, data: dict) -> None:
    """Rules of an invoice record: its source (or approved request), a number unique per type, the tax, and
    the over-invoicing guard (refused at the amount unless ticked with a reason; then flagged and audited)."""
    with session.no_autoflush:  # the half-built record must not reach the database before it is checked
        request, over = _invoice_rules(session, record, data)
    session.add(record)
    session.flush()
    scope = current_scope(session)
    if over is not None:
        audit.record(session, "invoice", record.id, "over_invoice", scope.user_id, over)
    if request is not None:
        audit.record(session, "invoice_request", request.id, "update", scope.user_id,
                     {"status": [request.status, "issued"]})
        request.status = "issued"


def _invoice_rules(session, record: Invoice, data: dict):
    old_status = _check_status_untouched(record, data, "issued")
    creating = record.id is None
    if not creating and (old_status or record.status) == "void":
        raise _error("_schema", _l("A void invoice cannot be changed."))
    if creating:
        record.status = "issued"
    request = _from_request(session, record, data) if creating else None
    if not creating and sa_inspect(record).attrs.request_id.history.has_changes():
        raise _error("request_id", _l("The request of an invoice cannot be changed."))
    source = _chosen_source(session, record, lock=True)
    _copy_from_source(record, source, data)
    _fill_title(session, record)
    _check_special(record)
    if record.issued_on is None:
        record.issued_on = dt.date.today()
    if _number_taken(session, record):
        raise _error("number", _l("This number is already used by another invoice of this type."))
    if record.tax_amount is None or ("tax_amount" not in data and ("amount" in data or "tax_rate" in data)):
        record.tax_amount = compute_tax(record.amount, record.tax_rate, record.currency)
    _check_minor_units(record)
    if record.tax_amount > record.amount:
        raise _error("tax_amount", _l("The tax cannot exceed the amount."))
    return request, _check_over_invoicing(session, record, source)


def _check_over_invoicing(session, record: Invoice, source: Source) -> dict | None:
    left = remaining_amount(session, source, exclude_id=record.id)
    if record.amount <= left:
        record.over_invoice, record.over_invoice_reason = False, None
        return None
    if not record.over_invoice:
        raise _error("amount", _l("More than is left to invoice on this record (%(left)s %(currency)s). Tick "
                                  "\"over-invoice\" and give a reason to issue it anyway.",
                                  left=format(max(left, ZERO), "f"), currency=source.currency))
    if not record.over_invoice_reason:
        raise _error("over_invoice_reason", _l("Give the reason for invoicing more than is due."))
    return {"amount": record.amount, "left_to_invoice": left, "currency": source.currency,
            "source": [source.column, source.id], "reason": record.over_invoice_reason}


def void(session, spec, invoice_id, reason: str) -> Invoice:
    """Void an issued invoice the caller may edit; the reason is kept and audited. It no longer counts as
    invoiced (its number stays taken: the tax system does not reuse it)."""
    invoice = core_services.get(session, spec, invoice_id, action="edit")
    if invoice.status == "void":
        raise _error("_schema", _l("This invoice is already void."))
    scope = current_scope(session)
    audit.record(session, spec.name, invoice.id, "update", scope.user_id,
                 {"status": [invoice.status, "void"], "void_reason": [None, reason]})
    invoice.status, invoice.void_reason = "void", reason
    invoice.voided_by_id, invoice.voided_at = scope.user_id, utcnow()
    session.flush()
    return invoice


# ------------------------------------------------------------------ reading

def of_anchor(session, model, column, anchor_id, limit=50):
    """Visible requests or invoices of a customer, contract or order (those of its orders and payments too)."""
    return list(session.execute(select(model).where(anchor_condition(model, column, anchor_id))
                                .order_by(model.id.desc()).limit(limit)).scalars())


def anchor_condition(model, column, anchor_id):
    """Rows of ``model`` (request or invoice) that belong to a customer / contract / order."""
    if column == "customer_id":
        return model.customer_id == anchor_id
    return anchor_condition_in(model, column, [anchor_id])


def anchor_condition_in(model, column, ids):
    models = source_models()
    Order, Payment = models["order_id"], models["payment_id"]
    # ``ids``: a list, or a SELECT of ids (a project's contracts), used as a subquery
    ids = ids if hasattr(ids, "subquery") else list(ids)
    if column == "contract_id":
        orders = select(Order.id).where(Order.contract_id.in_(ids))
        payments = select(Payment.id).where(or_(Payment.contract_id.in_(ids), Payment.order_id.in_(orders)))
        return or_(model.contract_id.in_(ids), model.order_id.in_(orders), model.payment_id.in_(payments))
    payments = select(Payment.id).where(Payment.order_id.in_(ids))
    return or_(model.order_id.in_(ids), model.payment_id.in_(payments))


def invoiced_by_currency(invoices) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for invoice in invoices:
        if invoice.status == "issued":
            totals[invoice.currency] = totals.get(invoice.currency, ZERO) + invoice.amount
    return totals


# ------------------------------------------------------------------ deletes that would orphan an invoice

def delete_blockers(session, entity, record) -> list:
    """A contract, order or payment with issued invoices stays: its invoiced amount would count against nothing.
    Checked across the whole table (system scope: an invoice the user may not see still counts)."""
    column = {"contract": Invoice.contract_id, "order": Invoice.order_id, "payment": Invoice.payment_id}.get(entity)
    if column is None:
        return []
    with system_scope(session, f"invoices: is {entity} {record.id} invoiced?"):
        found = session.execute(select(Invoice.id).where(column == record.id, Invoice.status == "issued")
                                .limit(1)).first()
    return [_l("Invoices have been issued against this record: void them first.")] if found is not None else []
