"""What the module shows on detail pages: the lines, totals and history of a quote, its buttons, and the
"Quotes" card on customers, opportunities and projects.

Every row comes through the request's scoped session: a panel never shows what the user may not see.
"""
from __future__ import annotations

from flask import url_for

from core.authz import has
from core.entities import Field
from core.i18n import _l
from core.money import currency_choices
from core.runtime import current
from core.ui import Action, Panel
from core.web.common import may
from plugins.quotes import services
from plugins.quotes.schemas import STATUS_CHOICES

STATUS_STYLES = {"draft": "secondary", "sent": "primary", "accepted": "success", "rejected": "danger",
                 "expired": "warning"}
LINKED = (("opportunity_id", "opportunity", _l("Opportunity")), ("project_id", "project", _l("Project")))


class CurrencyChoices:
    """The currency select's choices, labelled in the request's language when iterated."""

    def __iter__(self):
        return iter(currency_choices())

    def __getitem__(self, index):
        return currency_choices()[index]

    def __len__(self):
        return len(currency_choices())

    def __bool__(self):
        return True


def link_fields(app):
    """Opportunity and project become reference fields of the quote when their modules are enabled: the
    form offers what the user can see and core checks the chosen one through the scoped session."""
    registry = app.extensions["guanxi"].entities
    spec = registry.get("quote")
    if spec is None:
        return
    for name, entity, label in LINKED:
        if registry.get(entity) is not None and spec.field(name) is None:
            position = next(i for i, f in enumerate(spec.fields) if f.name == "contact_id") + 1
            spec.fields = spec.fields[:position] + [Field(name, label, "reference", reference=entity)] \
                + spec.fields[position:]


def status_label(status: str) -> str:
    return str(dict(STATUS_CHOICES).get(status, status))


def _spec():
    return current().entities["quote"]


def lines_panel(session, quote) -> Panel:
    status = services.effective_status(quote)
    converted = services.conversions(session, quote.id)
    return Panel("lines", _l("Lines and totals"), "quotes/lines_panel.html", order=1, context={
        "quote": quote, "lines": quote.lines, "status": status, "status_label": status_label(status),
        "status_style": STATUS_STYLES.get(status, "secondary"),
        "conversions": [(row, _target_url(row)) for row in converted],
    })


def _target_url(row):
    target = current().entities.get(row.target_entity)
    if target is None:
        return None
    return url_for("web.record_detail", entity=row.target_entity, record_id=row.target_id)


def history_panel(session, quote) -> Panel:
    rows = services.revisions(session, quote)
    return Panel("revisions", _l("Revisions"), "quotes/revisions_panel.html", order=2, context={
        "quote": quote, "revisions": [(row, status_label(services.effective_status(row))) for row in rows]})


def related_quotes(session, entity, record) -> Panel:
    quotes = services.quotes_for(session, **{"customer_id" if entity == "customer" else f"{entity}_id": record.id})
    return Panel("quotes", _l("Quotes"), "quotes/related_panel.html", order=45, context={
        "quotes": [(q, status_label(services.effective_status(q)), STATUS_STYLES.get(services.effective_status(q)))
                   for q in quotes],
        "new_url": url_for("quotes.new", **new_quote_args(entity, record)) if has("quotes.quote.create") else None,
    })


def new_quote_args(entity, record) -> dict:
    """Prefill of "New quote" from a customer, an opportunity (its customer) or a project (its first customer)."""
    if entity == "customer":
        return {"customer_id": record.id}
    customer_id = getattr(record, "customer_id", None) or getattr(record, "follow_up_customer_id", None)
    return {f"{entity}_id": record.id, **({"customer_id": customer_id} if customer_id else {})}


def quote_actions(quote) -> list[Action]:
    """Buttons of a quote page, by status; the services check everything again when they are used."""
    actions = [
        Action("quotes.pdf_zh", _l("PDF (Chinese)"), url_for("quotes.pdf", record_id=quote.id, lang="zh_CN"),
               permission="quotes.quote.view"),
        Action("quotes.pdf_en", _l("PDF (English)"), url_for("quotes.pdf", record_id=quote.id, lang="en"),
               permission="quotes.quote.view"),
    ]
    if quote.superseded or not may(_spec(), quote.id, "edit"):
        return actions
    status = services.effective_status(quote)
    if status in ("draft", "sent"):
        actions.append(Action("quotes.mail", _l("Send by e-mail"), url_for("quotes.mail", record_id=quote.id),
                              permission="quotes.quote.edit", style="primary"))
    if status == "draft":
        actions.append(Action("quotes.sent", _l("Mark as sent"), url_for("quotes.status", record_id=quote.id,
                              status="sent"), method="POST", permission="quotes.quote.edit"))
    if status == "sent":
        actions.append(Action("quotes.accepted", _l("Accepted"), url_for("quotes.status", record_id=quote.id,
                              status="accepted"), method="POST", permission="quotes.quote.edit", style="success"))
        actions.append(Action("quotes.rejected", _l("Rejected"), url_for("quotes.status", record_id=quote.id,
                              status="rejected"), method="POST", permission="quotes.quote.edit", style="danger",
                              confirm=_l("Mark this quote as rejected by the customer?")))
    actions.append(Action("quotes.revise", _l("New revision"), url_for("quotes.revise", record_id=quote.id),
                          method="POST", permission="quotes.quote.create",
                          confirm=_l("Copy this quote into a new draft revision? This one becomes read-only.")))
    return actions
