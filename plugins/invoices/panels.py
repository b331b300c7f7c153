"""Cards the module adds to detail pages: "Invoices" on a customer, contract or order; the status (with the
decision, void or over-invoice reason) on a request and on an invoice.

Every row comes through the request's scoped session: a panel never shows what the user may not see. A panel
costs a fixed number of queries, whatever the number of rows.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from core.authz import has
from core.i18n import _l
from core.models import User
from core.ui import Panel
from plugins.invoices import services
from plugins.invoices.models import Invoice, InvoiceRequest
from plugins.invoices.schemas import INVOICE_STATUS_CHOICES, REQUEST_STATUS_CHOICES, TYPE_CHOICES

ANCHORS = {"customer": "customer_id", "contract": "contract_id", "order": "order_id"}


def labels(choices) -> dict:
    return {value: str(label) for value, label in choices}


def invoices_panel(session, entity, record) -> Panel:
    column = ANCHORS[entity]
    requests = services.of_anchor(session, InvoiceRequest, column, record.id) if has("invoices.request.view") else None
    invoices = services.of_anchor(session, Invoice, column, record.id) if has("invoices.invoice.view") else None
    context = {
        "requests": requests, "invoices": invoices,
        "request_status": labels(REQUEST_STATUS_CHOICES), "invoice_status": labels(INVOICE_STATUS_CHOICES),
        "types": labels(TYPE_CHOICES),
        "invoiced": services.invoiced_by_currency(invoices or []),
        "left": None, "currency": getattr(record, "currency", None),
        "request_url": None,
    }
    if column != "customer_id":
        values = services.prefill(session, column, record.id)
        context["left"] = values.get("_left")
        if has("invoices.request.create"):
            context["request_url"] = url_for("web.record_new", entity="invoice_request",
                                             **services.prefill_url_values(values))
    return Panel("invoices", _l("Invoices"), "invoices/anchor_panel.html", order=60, context=context)


def _user_names(session, ids) -> dict:
    ids = {i for i in ids if i}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


def _source_link(session, record):
    """The contract, order or payment invoiced: its label and title (None when the user cannot see it)."""
    from core.runtime import current
    from core.web.display import load_titles
    if record.source is None:
        return None
    kind, record_id = record.source
    title = load_titles(session, kind, [record_id]).get((kind, record_id))
    if title is None:
        return None
    return {"label": current().entities[kind].label, "title": title,
            "url": url_for("web.record_detail", entity=kind, record_id=record_id)}


def request_status_panel(session, request) -> Panel:
    names = _user_names(session, [request.decided_by_id])
    invoices = list(session.execute(select(Invoice).where(Invoice.request_id == request.id)
                                    .order_by(Invoice.id)).scalars())
    return Panel("invoice_request_status", _l("Status"), "invoices/request_status.html", order=1, context={
        "request": request, "status_label": labels(REQUEST_STATUS_CHOICES).get(request.status, request.status),
        "decided_by": names.get(request.decided_by_id), "source": _source_link(session, request),
        "invoices": invoices, "invoice_status": labels(INVOICE_STATUS_CHOICES),
    })


def invoice_status_panel(session, invoice) -> Panel:
    names = _user_names(session, [invoice.voided_by_id])
    return Panel("invoice_status", _l("Status"), "invoices/invoice_status.html", order=1, context={
        "invoice": invoice, "status_label": labels(INVOICE_STATUS_CHOICES).get(invoice.status, invoice.status),
        "voided_by": names.get(invoice.voided_by_id), "source": _source_link(session, invoice),
    })
