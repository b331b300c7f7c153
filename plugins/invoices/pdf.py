"""PDF of an invoice request or an invoice record, in Chinese or English, on the company letterhead
(``core.pdf.render_pdf``: WeasyPrint with the Noto CJK fonts, no network fetch)."""
from __future__ import annotations

from sqlalchemy import select

from core.web.display import load_titles
from plugins.invoices.schemas import INVOICE_STATUS_CHOICES, REQUEST_STATUS_CHOICES, TYPE_CHOICES

LANGUAGES = ("zh_CN", "en")


def _context(session, record) -> dict:
    """Labels stay lazy: the template turns them into text in the PDF's language."""
    from core.runtime import current
    from core.models import Customer
    kind, source_id = record.source or (None, None)
    source_title = load_titles(session, kind, [source_id]).get((kind, source_id)) if kind else None
    # through the scoped query (never a warm identity map): a customer the user cannot see stays unnamed
    customer_name = session.execute(select(Customer.name).where(Customer.id == record.customer_id)).scalar()
    return {
        "types": dict(TYPE_CHOICES), "source_label": current().entities[kind].label if kind else None,
        "source_title": source_title, "customer_name": customer_name or "",
    }


def request_pdf(session, request, language: str) -> bytes:
    from core.pdf import render_pdf
    return render_pdf("invoices/pdf/request.html", language=language, request=request,
                      statuses=dict(REQUEST_STATUS_CHOICES), **_context(session, request))


def invoice_pdf(session, invoice, language: str) -> bytes:
    from core.pdf import render_pdf
    return render_pdf("invoices/pdf/invoice.html", language=language, invoice=invoice,
                      statuses=dict(INVOICE_STATUS_CHOICES), **_context(session, invoice))
