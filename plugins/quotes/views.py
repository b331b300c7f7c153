"""Pages of the module: the quote form with its lines editor, the status buttons, new revisions, the PDF,
sending by e-mail and the product look-up of the lines editor.

The quote list and detail pages are core's generic pages of the ``quote`` spec. Every view is declared with
``core.authz``; rules live in ``services``; rows come through the request's scoped session; each POST is
one transaction.
"""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, send_from_directory,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import services as core_services
from core.authz import login_required_only, requires
from core.customfields import schema_for, web as custom_web
from core.i18n import _
from core.models import Product
from core.runtime import current, db
from core.web import forms
from core.web.common import ID, detail_url, parse_id, safe_next, scope
from plugins.quotes import documents, lineform, services

bp = Blueprint("quotes", __name__, url_prefix="/quotes", template_folder="templates")
STATIC = Path(__file__).parent / "static"
VIEW, CREATE, EDIT = "quotes.quote.view", "quotes.quote.create", "quotes.quote.edit"


def _spec():
    return current().entities["quote"]


def _load(record_id, action="view"):
    try:
        return core_services.get(db(), _spec(), record_id, action=action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def generic_form_to_quote_form():
    """``before_request``: core's generic /r/quote/new and /r/quote/<id>/edit lead to the quote form (which
    has the lines). Only for a logged-in user: anyone else meets core's login redirect as everywhere."""
    args = request.view_args or {}
    if g.get("user") is None or args.get("entity") != "quote":
        return None
    if request.endpoint == "web.record_new" and request.method == "GET":
        return redirect(url_for("quotes.new", **request.args.to_dict()))
    if request.endpoint == "web.record_edit" and request.method == "GET":
        return redirect(url_for("quotes.edit", record_id=args["record_id"]))
    return None


@bp.route("/assets/<path:filename>")
@login_required_only
def asset(filename):
    """The lines editor's script (a static file: the CSP forbids inline code)."""
    return send_from_directory(STATIC, filename)


# ------------------------------------------------------------------ the form

@bp.route("/new", methods=["GET", "POST"])
@requires(CREATE)
def new():
    spec = _spec()
    if request.method == "GET":
        values = {**forms.initial_values(spec, request.args), **custom_web.initial_values(spec)}
        return _form(values, lineform.blank_rows(), {}, {})
    header, rows = _typed()
    try:
        data = _load_input(spec, rows)
        record = core_services.create(db(), spec, forms.without_unset_defaults(spec, data), current().entities,
                                      commit=False)
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _form(header, rows, *_errors(err, rows), status=422)
    except IntegrityError:
        db().rollback()
        return _form(header, rows, {"_schema": [_("The quote could not be saved: please try again.")]}, {},
                     status=422)
    flash(_("Quote %(number)s saved.", number=record.display_number), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record.id)))


@bp.route(f"/<{ID}:record_id>/edit", methods=["GET", "POST"])
@requires(EDIT)
def edit(record_id):
    spec = _spec()
    record = _load(record_id, "edit")
    if not record.editable:
        flash(_("Only the latest revision of a draft quote can be changed. Make a new revision to change it."),
              "warning")
        return redirect(detail_url(spec, record.id))
    if request.method == "GET":
        values = {**forms.values_from_record(spec, record), **custom_web.values_from_record(spec, record)}
        return _form(values, lineform.rows_from_lines(record.lines), {}, {}, record=record,
                     version=record.version)
    header, rows = _typed()
    version = request.form.get("version")
    try:
        data = _load_input(spec, rows)
        if version is not None:
            data["version"] = parse_id(version) or 0
        core_services.update(db(), spec, record.id, forms.without_unset_defaults(spec, data, editing=True),
                             current().entities)
    except ValidationError as err:
        db().rollback()
        return _form(header, rows, *_errors(err, rows), record=record, version=version, status=422)
    except core_services.StaleVersion:
        db().rollback()
        return _form(header, rows, {"_schema": [_(
            "Someone else changed this quote while you were editing it. Nothing was saved: reload the quote "
            "to see the current values, then make your change again.")]}, {}, record=record, version=version,
            status=409)
    except core_services.NotFound:
        abort(404)
    flash(_("Quote %(number)s saved.", number=record.display_number), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record.id)))


def _typed():
    """What the user typed: header values (custom fields included) and the line rows."""
    spec = _spec()
    header = {**forms.values_from_form(spec, request.form), **custom_web.values_from_form(spec, request.form)}
    return header, lineform.rows_from_form(request.form)


def _load_input(spec, rows) -> dict:
    data = forms.data_from_form(spec, request.form)
    data = {name: value for name, value in data.items() if name in lineform.HEADER_FIELDS}
    custom = custom_web.data_from_form(spec, request.form)
    if custom is not None:
        data["custom"] = custom
    data["lines"] = lineform.schema_input(rows)
    return schema_for(spec, scope()).load(data)


def _errors(err, rows):
    messages = dict(err.messages) if isinstance(err.messages, dict) else {"_schema": err.messages}
    line_errors, general = lineform.line_errors(messages.pop("lines", None), rows)
    errors = custom_web.field_errors(messages)
    if general:
        errors["lines"] = general
    return errors, line_errors


def _form(values, rows, errors, line_errors, record=None, version=None, status=200):
    db().rollback()  # nothing half-done stays in the session while the page is drawn
    spec = _spec()
    action = "edit" if record is not None else "create"
    if record is not None:
        record = _load(record.id, "edit")
    header = [f for f in forms.build_form(spec, values, errors, action) if f.name in lineform.HEADER_FIELDS]
    custom_sections = custom_web.form_sections(spec, values, errors, action)
    shown = {f.name for f in header} | {f.name for _t, items in custom_sections for f in items} | {"lines"}
    general = [m for name, msgs in errors.items() if name not in shown for m in msgs]
    return render_template(
        "quotes/form.html", spec=spec, record=record, version=version, header=header,
        custom_sections=custom_sections, general_errors=general, line_errors=errors.get("lines", []),
        rows=lineform.render_rows(db(), rows, line_errors), template_row=lineform.render_rows(db(), lineform.blank_rows(1), {}, placeholder="__index__")[0],
        next=request.values.get("next", "")), status


# ------------------------------------------------------------------ status, revisions

@bp.route(f"/<{ID}:record_id>/status/<status>", methods=["POST"])
@requires(EDIT)
def status(record_id, status):
    spec = _spec()
    if status not in services.TRANSITIONS:
        abort(404)
    try:
        quote = services.change_status(db(), spec, record_id, status)
        db().commit()
    except core_services.NotFound:
        db().rollback()
        abort(404)
    except ValidationError as err:
        db().rollback()
        for message in forms.field_errors(err.messages).get("status", []):
            flash(message, "danger")
        return redirect(detail_url(spec, record_id))
    flash(_("Quote %(number)s: %(status)s.", number=quote.display_number,
            status=documents.status_label(quote.status)), "success")
    return redirect(detail_url(spec, record_id))


@bp.route(f"/<{ID}:record_id>/revise", methods=["POST"])
@requires(CREATE)
def revise(record_id):
    spec = _spec()
    try:
        quote = services.new_revision(db(), spec, record_id)
        db().commit()
    except (core_services.NotFound, core_services.Forbidden):
        db().rollback()
        abort(404)
    except ValidationError as err:
        db().rollback()
        for messages in forms.field_errors(err.messages).values():
            for message in messages:
                flash(message, "danger")
        return redirect(detail_url(spec, record_id))
    flash(_("Revision %(number)s made: change it, then send it.", number=quote.display_number), "success")
    return redirect(url_for("quotes.edit", record_id=quote.id))


# ------------------------------------------------------------------ PDF and e-mail

@bp.route(f"/<{ID}:record_id>/pdf")
@requires(VIEW)
def pdf(record_id):
    quote = _load(record_id)
    language = documents.pdf_language(request.args.get("lang"))
    data = documents.quote_pdf(db(), quote, language)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{documents.pdf_filename(quote, language)}"'
    return response


@bp.route(f"/<{ID}:record_id>/mail", methods=["GET", "POST"])
@requires(EDIT)
def mail(record_id):
    spec = _spec()
    quote = _load(record_id, "edit")
    if quote.superseded or services.effective_status(quote) not in ("draft", "sent"):
        flash(_("Only a draft or sent quote can be e-mailed."), "warning")
        return redirect(detail_url(spec, quote.id))
    if request.method == "GET":
        return _mail_form(quote, documents.mail_defaults(quote), {})
    typed = {name: request.form.get(name, "") for name in ("to", "subject", "message", "language")}
    try:
        sent = documents.send(db(), spec, quote, typed)
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _mail_form(quote, typed, forms.field_errors(err.messages), 422)
    flash(_("The quote is on its way to %(to)s.", to=", ".join(sent.to)), "success")
    return redirect(detail_url(spec, quote.id))


def _mail_form(quote, values, errors, status=200):
    db().rollback()
    quote = _load(quote.id, "edit")
    return render_template("quotes/mail.html", quote=quote, values=values, errors=errors,
                           languages=documents.LANGUAGES), status


# ------------------------------------------------------------------ product look-up (lines editor)

@bp.route(f"/products/<{ID}:product_id>")
@requires("core.product.view")
def product_info(product_id):
    """Unit, price and currency of a product, to prefill a line (JSON)."""
    product = db().execute(select(Product).where(Product.id == product_id)).scalar_one_or_none()
    if product is None:
        abort(404)
    return jsonify(id=product.id, name=product.name, code=product.code, unit=product.unit or "",
                   price=format(product.price, "f") if product.price is not None else "",
                   currency=product.currency)
