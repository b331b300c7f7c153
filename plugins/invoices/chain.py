"""The invoices stage of the deal chain (hook ``deal_chain``, position 80).

Rows: the invoices of the anchor (and the requests still waiting to be issued); totals: ``invoiced`` = the sum of
issued (not void) invoices per currency. Everything is read through the caller's scoped session, so the chain
shows and sums only what the user may see. Anchors: customer, project, opportunity, contract, order; a payment's
invoices belong to the payment's contract or order.
"""
from __future__ import annotations

from decimal import Decimal

from flask import url_for
from sqlalchemy import func, or_, select

from core.i18n import _l
from core.money import quantize
from core.scope import current_scope
from plugins.invoices import services
from plugins.invoices.models import Invoice, InvoiceRequest
from plugins.invoices.panels import labels
from plugins.invoices.schemas import INVOICE_STATUS_CHOICES, REQUEST_STATUS_CHOICES

POSITION = 80
OPEN_REQUESTS = ("requested", "approved")
ROW_LIMIT = 200


def condition(model, entity, record_id):
    """Rows of ``model`` (request or invoice) in the chain of the anchor, or None for another entity."""
    if entity == "customer":
        return model.customer_id == record_id
    if entity == "contract":
        return services.anchor_condition_in(model, "contract_id", [record_id])
    if entity == "order":
        return services.anchor_condition_in(model, "order_id", [record_id])
    if entity in ("project", "opportunity"):
        return _deal_condition(model, f"{entity}_id", record_id)
    return None


def _deal_condition(model, link_column, record_id):
    """Contracts linked to a project / opportunity, their orders and the orders whose quote is linked to it."""
    from plugins.contracts.models import Contract
    from plugins.orders.models import Order
    from plugins.quotes.models import Quote
    contracts = select(Contract.id).where(getattr(Contract, link_column) == record_id)
    quotes = select(Quote.id).where(getattr(Quote, link_column) == record_id)
    orders = select(Order.id).where(or_(Order.contract_id.in_(contracts), Order.quote_id.in_(quotes)))
    return or_(services.anchor_condition_in(model, "contract_id", contracts),
               services.anchor_condition_in(model, "order_id", orders))


def stages(session, entity, record) -> list:
    from core.chain import ChainRow, ChainStage
    scope = current_scope(session)
    see_invoices, see_requests = scope.has("invoices.invoice.view"), scope.has("invoices.request.view")
    if not (see_invoices or see_requests) or condition(Invoice, entity, record.id) is None:
        return []
    rows, totals = [], {}
    if see_invoices:
        invoices = list(session.execute(select(Invoice).where(condition(Invoice, entity, record.id))
                                        .order_by(Invoice.issued_on, Invoice.id).limit(ROW_LIMIT)).scalars())
        status = labels(INVOICE_STATUS_CHOICES)
        rows += [ChainRow(label=f"{invoice.number} · {invoice.title}", status_label=status.get(invoice.status),
                          url=url_for("web.record_detail", entity="invoice", record_id=invoice.id),
                          amount=invoice.amount, currency=invoice.currency) for invoice in invoices]
        # summed by the database, not from the (limited) rows
        sums = session.execute(select(Invoice.currency, func.sum(Invoice.amount))
                               .where(condition(Invoice, entity, record.id), Invoice.status == "issued")
                               .group_by(Invoice.currency)).all()
        totals = {"invoiced": {currency: quantize(Decimal(str(amount)), currency) for currency, amount in sums}}
    if see_requests:
        requests = list(session.execute(
            select(InvoiceRequest).where(condition(InvoiceRequest, entity, record.id),
                                         InvoiceRequest.status.in_(OPEN_REQUESTS))
            .order_by(InvoiceRequest.id).limit(ROW_LIMIT)).scalars())
        status = labels(REQUEST_STATUS_CHOICES)
        rows += [ChainRow(label=str(_l("Invoice request %(label)s", label=request.label)),
                          status_label=status.get(request.status),
                          url=url_for("web.record_detail", entity="invoice_request", record_id=request.id),
                          amount=request.amount, currency=request.currency, indent=1) for request in requests]
    if not rows:
        return []
    return [ChainStage(position=POSITION, key="invoices", label=_l("Invoices"), rows=rows, totals=totals)]
