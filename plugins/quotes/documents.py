"""The quote as a document: its PDF (Chinese or English, company letterhead, embedded CJK fonts) and
sending it by e-mail with the PDF attached (through core's outbox: delivered after commit by the worker)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import get_locale
from marshmallow import ValidationError

from core import audit
from core.i18n import _, _l
from core.scope import current_scope
from plugins.quotes import services
from plugins.quotes.schemas import STATUS_CHOICES, MailSchema

LANGUAGES = [("zh_CN", _l("Chinese")), ("en", _l("English"))]
_SEPARATORS = re.compile(r"[\s,;，；、]+")


def status_label(status: str) -> str:
    return str(dict(STATUS_CHOICES).get(status, status))


def pdf_language(value) -> str:
    """The PDF's language: "zh_CN" or "en"; anything else gives the user's own language."""
    if value in ("zh_CN", "en"):
        return value
    locale = get_locale()
    return "zh_CN" if locale is not None and str(locale).startswith("zh") else "en"


def pdf_filename(quote, language: str) -> str:
    # numbers are ASCII (QT-2026-0001-R2): a safe file name in every mail client and browser
    return f"{quote.display_number}{'-en' if language == 'en' else ''}.pdf"


def quote_pdf(session, quote, language: str) -> bytes:
    """The quote rendered by core.pdf in ``language`` (lines, totals, validity, terms, letterhead)."""
    from core.pdf import render_pdf
    return render_pdf("quotes/pdf/quote.html", language=language, quote=quote, lines=list(quote.lines),
                      customer=quote.customer, contact=quote.contact,
                      status=services.effective_status(quote))


def mail_defaults(quote) -> dict:
    contact = quote.contact
    return {
        "to": (contact.email or "") if contact is not None else "",
        "subject": _("Quote %(number)s: %(title)s", number=quote.display_number, title=quote.title),
        "message": _("Dear %(name)s,\n\nplease find attached our quote %(number)s, valid until %(date)s.\n\n"
                     "Kind regards", name=contact.name if contact is not None else "",
                     number=quote.display_number, date=quote.valid_until.isoformat() if quote.valid_until else ""),
        "language": pdf_language(None),
    }


@dataclass
class Sent:
    to: list


def send(session, spec, quote, typed: dict) -> Sent:
    """Queue the e-mail with the PDF attached and mark a draft as sent, in the caller's transaction."""
    from core.mail import queue_mail
    addresses = [a for a in _SEPARATORS.split(typed.get("to") or "") if a]
    data = MailSchema().load({"to": addresses, "subject": typed.get("subject", ""),
                              "message": typed.get("message") or None,
                              "language": typed.get("language") or "zh_CN"})
    if quote.status == "draft" and quote.valid_until is not None and quote.valid_until < services.today():
        raise ValidationError({"_schema": [str(_l(
            "The validity date has passed: change it before sending the quote."))]})
    language = data["language"]
    document = quote_pdf(session, quote, language)
    queue_mail(session, to=data["to"], subject=data["subject"], text=data.get("message") or "",
               attachments=[(pdf_filename(quote, language), document, "application/pdf")],
               related=("quote", quote.id))
    user_id = current_scope(session).user_id
    audit.record(session, "quote", quote.id, "mail", user_id, {"mailed_to": [None, ", ".join(data["to"])]})
    if quote.status == "draft":
        services.change_status(session, spec, quote.id, "sent")
    return Sent(data["to"])
