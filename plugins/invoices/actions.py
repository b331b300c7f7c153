"""Buttons the module adds to detail pages (hook ``record_actions``).

"Request invoice" on a contract, order or payment opens the generic request form prefilled with the source,
what is left to invoice and the customer's last invoicing details. A request offers approve / reject / issue as
its status allows, an invoice offers void; both offer their PDF.
"""
from __future__ import annotations

from flask import url_for

from core.i18n import _l
from core.ui import Action
from plugins.invoices import services

SOURCES = {"contract": "contract_id", "order": "order_id", "payment": "payment_id"}


def for_record(session, entity, record) -> list[Action]:
    if entity in SOURCES:
        return [request_action(session, entity, record)]
    if entity == "invoice_request":
        return request_actions(record)
    if entity == "invoice":
        return invoice_actions(record)
    return []


def request_action(session, entity, record) -> Action:
    from core.authz import has
    values = services.prefill_url_values(services.prefill(session, SOURCES[entity], record.id)) \
        if has("invoices.request.create") else {}
    return Action(key="invoices.request", label=_l("Request invoice"), permission="invoices.request.create",
                  url=url_for("web.record_new", entity="invoice_request", **values))


def request_actions(request) -> list[Action]:
    actions = []
    if request.status == "requested":
        actions += [
            Action(key="invoices.approve", label=_l("Approve"), method="POST", style="success",
                   permission="invoices.request.approve",
                   url=url_for("invoices.approve_request", request_id=request.id)),
            Action(key="invoices.reject", label=_l("Reject"), style="danger", permission="invoices.request.approve",
                   url=url_for("invoices.reject_request", request_id=request.id)),
        ]
    if request.status == "approved":
        actions.append(Action(key="invoices.issue", label=_l("Record the invoice"), style="primary",
                              permission="invoices.invoice.create",
                              url=url_for("web.record_new", entity="invoice",
                                          **services.invoice_prefill(request))))
    actions += _pdf_actions("request", request.id)
    return actions


def invoice_actions(invoice) -> list[Action]:
    actions = []
    if invoice.status == "issued":
        actions.append(Action(key="invoices.void", label=_l("Void"), style="danger",
                              permission="invoices.invoice.edit",
                              url=url_for("invoices.void_invoice", invoice_id=invoice.id)))
    actions += _pdf_actions("invoice", invoice.id)
    return actions


PDF_LANGUAGES = (("zh_CN", _l("PDF (Chinese)")), ("en", _l("PDF (English)")))


def _pdf_actions(kind, record_id) -> list[Action]:
    endpoint = "invoices.request_pdf" if kind == "request" else "invoices.invoice_pdf"
    permission = "invoices.request.view" if kind == "request" else "invoices.invoice.view"
    return [Action(key=f"invoices.{kind}_pdf_{language}", label=label, permission=permission,
                   url=url_for(endpoint, lang=language, **{f"{kind}_id": record_id}))
            for language, label in PDF_LANGUAGES]
