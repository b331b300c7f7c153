"""The module's own pages: approve / reject a request, void an invoice, and the PDFs. Creating and editing go
through core's generic record pages (``/r/invoice_request/new``, ``/r/invoice/new``) and ``services.on_save_*``.

Every view is declared with ``core.authz`` (a contract test checks it); records load through the scoped session,
so a record out of scope answers 404 like a missing one; each POST is one transaction.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request
from marshmallow import ValidationError

from core import services as core_services
from core.authz import requires
from core.i18n import _, plain
from core.runtime import current, db
from core.web.common import ID, detail_url
from plugins.invoices import pdf, services
from plugins.invoices.schemas import ReasonSchema

bp = Blueprint("invoices", __name__, url_prefix="/invoices", template_folder="templates")


def _spec(name):
    return current().entities[name]


def _load(name, record_id, action="view"):
    try:
        return core_services.get(db(), _spec(name), record_id, action=action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def _errors(err: ValidationError) -> dict:
    messages = plain(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
    return {name: value if isinstance(value, list) else [value] for name, value in messages.items()}


@bp.route(f"/requests/<{ID}:request_id>/approve", methods=["POST"])
@requires("invoices.request.approve")
def approve_request(request_id):
    spec = _spec("invoice_request")
    try:
        services.approve(db(), spec, request_id)
        db().commit()
    except core_services.NotFound:
        abort(404)
    except ValidationError as err:
        db().rollback()
        for messages in _errors(err).values():
            for message in messages:
                flash(message, "danger")
        return redirect(detail_url(spec, request_id))
    flash(_("Invoice request approved."), "success")
    return redirect(detail_url(spec, request_id))


@bp.route(f"/requests/<{ID}:request_id>/reject", methods=["GET", "POST"])
@requires("invoices.request.approve")
def reject_request(request_id):
    record = _load("invoice_request", request_id, "approve")
    return _reason_form("invoice_request", record, _("Reject the request"), services.reject,
                        _("Invoice request rejected."))


@bp.route(f"/invoices/<{ID}:invoice_id>/void", methods=["GET", "POST"])
@requires("invoices.invoice.edit")
def void_invoice(invoice_id):
    record = _load("invoice", invoice_id, "edit")
    return _reason_form("invoice", record, _("Void the invoice"), services.void, _("Invoice voided."))


def _reason_form(entity, record, heading, action, done_message):
    """GET: the form asking for a reason; POST: ``action(session, spec, id, reason)`` then back to the record."""
    spec = _spec(entity)
    errors, reason = {}, request.form.get("reason", "")
    if request.method == "POST":
        try:
            data = ReasonSchema().load({"reason": reason})
            action(db(), spec, record.id, data["reason"])
            db().commit()
        except ValidationError as err:
            db().rollback()
            errors = _errors(err)
        except core_services.NotFound:
            abort(404)
        else:
            flash(done_message, "success")
            return redirect(detail_url(spec, record.id))
        record = _load(entity, record.id)
    status = 422 if errors else 200
    return render_template("invoices/reason_form.html", spec=spec, title=spec.title(record), heading=heading,
                           back_url=detail_url(spec, record.id), errors=errors, reason=reason), status


# ------------------------------------------------------------------ PDF

@bp.route(f"/requests/<{ID}:request_id>.pdf")
@requires("invoices.request.view")
def request_pdf(request_id):
    record = _load("invoice_request", request_id)
    return _pdf_response(pdf.request_pdf(db(), record, _language()), f"invoice-request-{record.id}.pdf")


@bp.route(f"/invoices/<{ID}:invoice_id>.pdf")
@requires("invoices.invoice.view")
def invoice_pdf(invoice_id):
    record = _load("invoice", invoice_id)
    return _pdf_response(pdf.invoice_pdf(db(), record, _language()), f"invoice-{record.id}.pdf")


def _language() -> str:
    wanted = request.args.get("lang", "")
    if wanted in pdf.LANGUAGES:
        return wanted
    from flask_babel import get_locale
    return "zh_CN" if str(get_locale() or "").startswith("zh") else "en"


def _pdf_response(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    # ASCII file names only (built from ids), so the header needs no RFC 6266 encoding
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
