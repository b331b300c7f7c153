"""The module's own pages: web-to-lead (public form and its admin page), assignment and conversion.

Every view is declared with ``core.authz`` (a contract test checks it). Lead records themselves use the
generic pages (``/r/lead/``) through the entity spec.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import services as core_services
from core.authz import public, requires
from core.i18n import _, plain
from core.models import Department, User
from core.runtime import current, db
from core.web import csrf
from core.web.common import safe_next
from core.web.pickers import owner_options
from plugins.leads import conversion, services, webforms
from plugins.leads.plugin import MANAGE_FORMS
from plugins.leads.schemas import SOURCE_CHOICES, WebCaptureSchema, WebFormSchema

bp = Blueprint("leads", __name__, url_prefix="/leads", template_folder="templates")

# The public form is framed by other sites: it allows any ancestor, and nothing else inline.
EMBED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
             "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors *")
CAPTURE_FIELDS = ("name", "company", "phone", "email", "notes")


def field_errors(messages) -> dict:
    """marshmallow messages as ``{field: [text, ...]}`` for the templates (a lone lazy message becomes a list)."""
    flat = {}
    for name, value in plain(messages).items():
        flat[name] = value if isinstance(value, list) else [value]
        if flat[name] and isinstance(flat[name][0], (dict, list)):
            flat[name] = [str(item) for item in flat[name]]
    return flat


def _registry():
    return current().entities


def _lead_spec():
    return _registry()["lead"]


# ------------------------------------------------------------------ public web-to-lead form

def _embeddable(body, status=200):
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = EMBED_CSP
    return response


def _capture_page(form, values, errors, status=200):
    return _embeddable(render_template("leads/capture.html", form=form, values=values, errors=errors,
                                       honeypot=webforms.HONEYPOT_FIELD), status)


def _thanks(form):
    return _embeddable(render_template("leads/capture_thanks.html", form=form))


@bp.route("/w/<token>", methods=["GET", "POST"])
@public
def capture(token):
    """The embeddable form: no login, no CSRF token (framed by other sites); honeypot and rate limit."""
    session = db()
    form = webforms.active_form(session, token)
    if form is None:
        abort(404)
    if request.method == "GET":
        return _capture_page(form, {}, {})
    try:
        webforms.check_rate(session, form, request.remote_addr or "-")
    except webforms.RateLimited:
        return _embeddable(render_template("leads/capture_limited.html", form=form), 429)
    if request.form.get(webforms.HONEYPOT_FIELD):
        return _thanks(form)  # a bot: it looks like success, nothing is saved
    values = {name: request.form.get(name, "") for name in CAPTURE_FIELDS}
    try:
        data = WebCaptureSchema().load(values)
        webforms.capture(session, _registry(), form, data)
    except ValidationError as err:
        session.rollback()
        return _capture_page(form, values, field_errors(err.messages), 422)
    except webforms.NoOwner:
        session.rollback()
        return _embeddable(render_template("leads/capture_unavailable.html", form=form), 503)
    return _thanks(form)


csrf.exempt(capture)


# ------------------------------------------------------------------ web-form administration

def _form_choices():
    session = db()
    departments = session.execute(select(Department).order_by(Department.path)).scalars().all()
    users = session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all()
    return {"departments": departments, "users": users, "sources": SOURCE_CHOICES}


@bp.route("/forms")
@requires(MANAGE_FORMS)
def web_forms():
    forms = webforms.all_forms(db())
    return render_template("leads/web_forms.html", forms=forms, title=_("Web-to-lead forms"))


def _web_form_page(form, values, errors, status=200):
    return render_template("leads/web_form_edit.html", form=form, values=values, errors=errors,
                           **_form_choices()), status


def _web_form_values(form):
    if form is None:
        return {"active": True, "source": "web_form"}
    return {name: getattr(form, name) for name in ("name", "department_id", "owner_id", "source", "thank_you",
                                                   "active")}


def _save_web_form(form):
    values = {name: request.form.get(name, "") for name in ("name", "department_id", "owner_id", "source",
                                                            "thank_you")}
    values["active"] = bool(request.form.get("active"))
    raw = {**values, "department_id": values["department_id"] or None, "owner_id": values["owner_id"] or None}
    try:
        saved = webforms.save_form(db(), WebFormSchema().load(raw), form)
    except ValidationError as err:
        db().rollback()
        return _web_form_page(form, values, field_errors(err.messages), 422)
    flash(_("Web form saved."), "success")
    return redirect(url_for("leads.web_forms", _anchor=f"web-form-{saved.id}"))


@bp.route("/forms/new", methods=["GET", "POST"])
@requires(MANAGE_FORMS)
def web_form_new():
    if request.method == "GET":
        return _web_form_page(None, _web_form_values(None), {})
    return _save_web_form(None)


@bp.route("/forms/<int:form_id>", methods=["GET", "POST"])
@requires(MANAGE_FORMS)
def web_form_edit(form_id):
    form = webforms.form_by_id(db(), form_id)
    if form is None:
        abort(404)
    if request.method == "GET":
        return _web_form_page(form, _web_form_values(form), {})
    return _save_web_form(form)


# ------------------------------------------------------------------ assignment

def _lead_or_404(lead_id, action):
    try:
        return services.load_visible(db(), _registry(), lead_id, action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def _assign_page(lead, errors, status=200):
    return render_template("leads/assign.html", lead=lead, errors=errors,
                           owner_choices=owner_options(_lead_spec(), "assign", lead.owner_id),
                           title=_("Assign lead")), status


def _back_to_list():
    return redirect(safe_next(request.form.get("next"), url_for("web.record_list", entity="lead")))


@bp.route("/<int:lead_id>/assign", methods=["GET", "POST"])
@requires("leads.lead.assign")
def assign(lead_id):
    lead = _lead_or_404(lead_id, "assign")
    if request.method == "GET":
        return _assign_page(lead, {})
    try:
        if request.form.get("mode") == "round_robin":
            services.assign_round_robin(db(), _registry(), [lead.id])
        else:
            services.assign(db(), _registry(), [lead.id], request.form.get("owner_id", type=int))
    except ValidationError as err:
        db().rollback()
        return _assign_page(lead, field_errors(err.messages), 422)
    flash(_("%(count)s lead(s) assigned.", count=1), "success")
    return redirect(url_for("web.record_detail", entity="lead", record_id=lead.id))


def _bulk(assigner, *args):
    """A bulk action of the lead list: ``ids`` from the list's check boxes; all or nothing."""
    ids = request.form.getlist("ids", type=int)
    if not ids:
        flash(_("Select at least one lead."), "warning")
        return _back_to_list()
    try:
        assigner(db(), _registry(), ids, *args)
    except core_services.NotFound:
        db().rollback()
        abort(404)
    except ValidationError as err:
        db().rollback()
        for messages in field_errors(err.messages).values():
            for message in messages:
                flash(message, "danger")
        return _back_to_list()
    flash(_("%(count)s lead(s) assigned.", count=len(ids)), "success")
    return _back_to_list()


@bp.route("/assign", methods=["POST"])
@requires("leads.lead.assign")
def bulk_assign():
    return _bulk(services.assign, request.form.get("owner_id", type=int))


@bp.route("/assign/round-robin", methods=["POST"])
@requires("leads.lead.assign")
def bulk_round_robin():
    return _bulk(services.assign_round_robin)


# ------------------------------------------------------------------ conversion

SECTIONS = {"customer": conversion.CUSTOMER_FIELDS, "contact": conversion.CONTACT_FIELDS,
            "opportunity": conversion.OPPORTUNITY_FIELDS}


SHOWN_AT_A_FIELD = {f"{section}_{key}" for section, keys in SECTIONS.items() for key in keys}


def _convert_page(lead, values, errors, status=200):
    registry = _registry()
    general = [message for name, messages in errors.items() if name not in SHOWN_AT_A_FIELD for message in messages]
    return render_template("leads/convert.html", lead=lead, values=values, errors=errors, general_errors=general,
                           duplicates=conversion.duplicates(db(), registry, lead),
                           with_opportunities=conversion.opportunities_enabled(registry),
                           title=_("Convert lead")), status


def _choices_from_form(form) -> conversion.Choices:
    sections = {name: {key: form.get(f"{name}_{key}", "") for key in keys} for name, keys in SECTIONS.items()}
    link_existing = form.get("customer_mode") == "existing"
    existing = form.get("existing_customer_id", type=int) if link_existing else None
    return conversion.Choices(customer=sections["customer"], contact=sections["contact"],
                              opportunity=sections["opportunity"] if form.get("create_opportunity") else None,
                              existing_customer_id=existing, link_existing=link_existing)


@bp.route("/<int:lead_id>/convert", methods=["GET", "POST"])
@requires("leads.lead.convert")
def convert(lead_id):
    lead = _lead_or_404(lead_id, "convert")
    if lead.converted_at is not None:
        flash(_("This lead was already converted."), "info")
        return redirect(url_for("web.record_detail", entity="lead", record_id=lead.id))
    if request.method == "GET":
        values = {**conversion.prefill(lead), "customer_mode": "new"}
        return _convert_page(lead, values, {})
    values = {key: value for key, value in request.form.items() if key != "csrf_token"}
    try:
        result = conversion.convert(db(), _registry(), lead.id, _choices_from_form(request.form))
    except ValidationError as err:
        return _convert_page(lead, values, field_errors(err.messages), 422)
    except IntegrityError:
        return _convert_page(lead, values, {"lead": [_("The records could not be saved: a value is already "
                                                      "used by another record.")]}, 422)
    except core_services.Forbidden:
        abort(403)
    except core_services.NotFound:
        abort(404)
    flash(_("Lead converted: customer %(name)s.", name=result.customer.name), "success")
    return redirect(url_for("web.record_detail", entity="customer", record_id=result.customer.id))
