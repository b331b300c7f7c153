"""The module's own pages: contracts expiring soon, the status and renewal actions, converting an accepted
quote, and the delivery-plan forms of a contract. Every view is declared with ``core.authz``; rules live in
``services``; rows come through the request's scoped session; each POST is one transaction."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from core import services as core_services
from core.authz import requires
from core.i18n import _, plain
from core.numbering import today
from core.runtime import current, db
from core.web.common import ID, detail_url, parse_id, safe_next
from plugins.contracts import services
from plugins.contracts.panels import STATUS_STYLES
from plugins.contracts.schemas import PLAN_STATUS_CHOICES, STATUS_CHOICES, DeliveryPlanSchema

bp = Blueprint("contracts", __name__, url_prefix="/contracts", template_folder="templates")
VIEW, CREATE, EDIT = "contracts.contract.view", "contracts.contract.create", "contracts.contract.edit"
DAY_CHOICES = (7, 30, 60, 90, 180)
PLAN_FIELDS = ("title", "due_on", "amount", "items", "status", "delivered_on")


def _spec():
    return current().entities["contract"]


def _contract_url(contract_id, anchor=""):
    return detail_url(_spec(), contract_id) + anchor


def _errors(err: ValidationError) -> dict:
    messages = plain(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
    return {name: value if isinstance(value, list) else [value] for name, value in messages.items()}


def _first_message(err: ValidationError) -> str:
    return "; ".join(str(m) for messages in _errors(err).values() for m in messages)


def _load(contract_id, action="view"):
    try:
        return services.get_contract(db(), contract_id, action=action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


# ------------------------------------------------------------------ expiring soon

@bp.route("/expiring")
@requires(VIEW)
def expiring():
    """Active contracts ending (or up for a renewal decision) within ``?days=`` days, soonest first."""
    days = parse_id(request.args.get("days")) or 30
    days = min(days, 3650)
    on = today()
    rows = services.expiring(db(), days, on)
    from core.web import display
    customers = display.load_titles(db(), "customer", {c.customer_id for c in rows})
    return render_template("contracts/expiring.html", rows=rows, days=days, day_choices=DAY_CHOICES, today=on,
                           customers=customers, limit=services.EXPIRING_LIMIT)


# ------------------------------------------------------------------ status flow and renewal

@bp.route(f"/<{ID}:contract_id>/status", methods=["POST"])
@requires(EDIT)
def change_status(contract_id):
    contract = _load(contract_id, "edit")
    status = request.form.get("status", "")
    if status not in dict(STATUS_CHOICES):
        abort(400)
    try:
        services.change_status(db(), contract.id, status, version=parse_id(request.form.get("version")))
    except ValidationError as err:
        db().rollback()
        flash(_("The status was not changed: %(reason)s", reason=_first_message(err)), "danger")
    except core_services.StaleVersion:
        db().rollback()
        flash(_("Someone else changed this contract meanwhile. Nothing was saved: check it and try again."),
              "danger")
    except core_services.NotFound:
        abort(404)
    else:
        flash(_("Status changed."), "success")
    return redirect(_contract_url(contract.id, "#contract"))


@bp.route(f"/<{ID}:contract_id>/renew", methods=["POST"])
@requires(CREATE)
def renew(contract_id):
    contract = _load(contract_id, "edit")
    try:
        follow_on = services.renew(db(), contract.id)
        db().commit()
    except ValidationError as err:
        db().rollback()
        flash(_("The contract was not renewed: %(reason)s", reason=_first_message(err)), "danger")
        return redirect(_contract_url(contract.id))
    except core_services.NotFound:
        abort(404)
    flash(_("Follow-on contract %(number)s created: check its dates and amount.", number=follow_on.number),
          "success")
    return redirect(url_for("web.record_edit", entity="contract", record_id=follow_on.id))


# ------------------------------------------------------------------ converting an accepted quote

@bp.route(f"/from-quote/<{ID}:quote_id>", methods=["POST"])
@requires(CREATE)
def convert_quote(quote_id):
    quote_url = url_for("web.record_detail", entity="quote", record_id=quote_id)
    try:
        contract = services.create_from_quote(db(), quote_id)
        db().commit()
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)
    except ValidationError as err:
        db().rollback()
        flash(_("The quote was not converted: %(reason)s", reason=_first_message(err)), "danger")
        return redirect(quote_url)
    except IntegrityError:  # converted by another request at the same moment: that one stands
        db().rollback()
        flash(_("The quote was not converted: %(reason)s",
                reason=_("This quote has already been converted into a contract.")), "danger")
        return redirect(quote_url)
    flash(_("Contract %(number)s created from the quote: complete its dates and terms.", number=contract.number),
          "success")
    return redirect(url_for("web.record_edit", entity="contract", record_id=contract.id))


# ------------------------------------------------------------------ delivery plans

def _plan_input() -> dict:
    return {name: request.form.get(name, "") for name in PLAN_FIELDS}


def _plan_data(typed: dict, version=None) -> dict:
    """Schema input: blank inputs mean "not given"; the version of the milestone the form was drawn from."""
    given = {name: typed[name] for name in PLAN_FIELDS if typed.get(name, "").strip()}
    if version is not None:
        given["version"] = version
    return DeliveryPlanSchema().load(given)


@bp.route(f"/<{ID}:contract_id>/plans", methods=["POST"])
@requires(EDIT)
def plan_add(contract_id):
    contract = _load(contract_id, "edit")
    typed = _plan_input()
    try:
        services.save_plan(db(), contract.id, _plan_data(typed))
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _plan_form(contract.id, None, typed, _errors(err), 422)
    except core_services.NotFound:
        abort(404)
    flash(_("Milestone added."), "success")
    return redirect(_contract_url(contract.id, "#delivery_plan"))


@bp.route(f"/<{ID}:contract_id>/plans/<{ID}:plan_id>", methods=["GET", "POST"])
@requires(EDIT)
def plan_edit(contract_id, plan_id):
    contract, plan = _load_plan(contract_id, plan_id)
    if request.method == "GET":
        typed = {name: _text(getattr(plan, name)) for name in PLAN_FIELDS}
        return _plan_form(contract.id, plan.id, {**typed, "version": str(plan.version)}, {})
    typed = {**_plan_input(), "version": request.form.get("version", "")}
    try:
        services.save_plan(db(), contract.id, _plan_data(typed, parse_id(request.form.get("version"))), plan.id)
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _plan_form(contract.id, plan.id, typed, _errors(err), 422)
    except core_services.StaleVersion:
        db().rollback()
        return _plan_form(contract.id, plan.id, typed, {"_schema": [_(
            "Someone else changed this milestone meanwhile. Nothing was saved: reload it and try again.")]}, 409)
    except core_services.NotFound:
        abort(404)
    flash(_("Milestone saved."), "success")
    return redirect(_contract_url(contract.id, "#delivery_plan"))


@bp.route(f"/<{ID}:contract_id>/plans/<{ID}:plan_id>/deliver", methods=["POST"])
@requires(EDIT)
def plan_deliver(contract_id, plan_id):
    contract, plan = _load_plan(contract_id, plan_id)
    try:
        services.mark_delivered(db(), contract.id, plan.id)
        db().commit()
    except ValidationError as err:
        db().rollback()
        flash(_first_message(err), "danger")
    else:
        flash(_("Milestone delivered."), "success")
    return redirect(safe_next(request.form.get("next"), _contract_url(contract.id, "#delivery_plan")))


@bp.route(f"/<{ID}:contract_id>/plans/<{ID}:plan_id>/delete", methods=["POST"])
@requires(EDIT)
def plan_delete(contract_id, plan_id):
    contract, plan = _load_plan(contract_id, plan_id)
    try:
        services.delete_plan(db(), contract.id, plan.id)
        db().commit()
    except ValidationError as err:
        db().rollback()
        flash(_first_message(err), "danger")
    else:
        flash(_("Milestone removed."), "success")
    return redirect(_contract_url(contract.id, "#delivery_plan"))


def _load_plan(contract_id, plan_id):
    try:
        return services.get_plan(db(), contract_id, plan_id, action="edit")
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return format(value, "f") if not isinstance(value, str) else value


def _plan_form(contract_id, plan_id, values, errors, status=200):
    db().rollback()  # nothing half-done stays in the session while the page is drawn
    contract = _load(contract_id, "edit")
    plan = services.get_plan(db(), contract.id, plan_id, action="edit")[1] if plan_id else None
    return render_template(
        "contracts/plan_form.html", contract=contract, plan=plan, values=values, errors=errors,
        plan_status_choices=[(value, str(label)) for value, label in PLAN_STATUS_CHOICES],
        styles=STATUS_STYLES, contract_url=_contract_url(contract.id, "#delivery_plan")), status
