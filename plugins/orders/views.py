"""The module's own pages: the order form with its lines, status changes, shipments, reviews, batch
actions, the unpaid-order chasing list (催付) and the exceptions page. Every view is declared with
``core.authz``; rules live in the service modules; rows come through the request's scoped session; each
POST is one transaction (the view commits once)."""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint, abort, flash, g, redirect, render_template, request, send_from_directory, url_for,
)
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from core import services as core_services
from core.authz import login_required_only, requires
from core.customfields import schema_for, web as custom_web
from core.i18n import _
from core.runtime import current, db
from core.web import forms
from core.web.common import ID, detail_url, page_limit, parse_id, safe_next, scope
from core.web.pickers import owner_options
from plugins.orders import chasing, lineform, reviews, services, shipments, statuses
from plugins.orders.schemas import (
    BATCH_KINDS, ReviewSchema, ShipmentSchema, ShipmentStatusSchema, StatusChangeSchema,
)

bp = Blueprint("orders", __name__, url_prefix="/orders", template_folder="templates")
STATIC = Path(__file__).parent / "static"
VIEW, CREATE, EDIT = "orders.order.view", "orders.order.create", "orders.order.edit"


def _spec():
    return current().entities["order"]


def _load(record_id, action="view"):
    try:
        return core_services.get(db(), _spec(), record_id, action=action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def _messages(err) -> dict:
    return forms.field_errors(err.messages)


def _back(order_id, anchor=""):
    return redirect(safe_next(request.form.get("next"), detail_url(_spec(), order_id) + anchor))


def generic_form_to_order_form():
    """``before_request``: core's generic /r/order/new and /r/order/<id>/edit lead to the order form (which
    has the lines). Only for a logged-in user: anyone else meets core's login redirect as everywhere."""
    args = request.view_args or {}
    if g.get("user") is None or args.get("entity") != "order" or request.method != "GET":
        return None
    if request.endpoint == "web.record_new":
        return redirect(url_for("orders.new", **request.args.to_dict()))
    if request.endpoint == "web.record_edit":
        return redirect(url_for("orders.edit", record_id=args["record_id"]))
    return None


@bp.route("/assets/<path:filename>")
@login_required_only
def asset(filename):
    """The lines editor's script (a static file: the CSP forbids inline code)."""
    return send_from_directory(STATIC, filename)


# ------------------------------------------------------------------ the form with lines

@bp.route("/new", methods=["GET", "POST"])
@requires(CREATE)
def new():
    spec = _spec()
    if request.method == "GET":
        values = {**forms.initial_values(spec, request.args), **custom_web.initial_values(spec)}
        contract_id = parse_id(request.args.get("contract_id"))
        if contract_id is not None:
            prefill = services.prefill_from_contract(db(), contract_id)
            values.update({key: lineform.as_text(value) for key, value in prefill.items()})
        return _form(values, lineform.blank_rows(), {}, {})
    header, rows = _typed()
    try:
        data = _load_input(spec, rows)
        record = services.create_order(db(), current().entities, forms.without_unset_defaults(spec, data))
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _form(header, rows, *_errors(err, rows), status=422)
    except IntegrityError:
        db().rollback()
        return _form(header, rows, {"_schema": [_("The order could not be saved: please try again.")]}, {},
                     status=422)
    flash(_("Order %(number)s saved.", number=record.number), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record.id)))


@bp.route(f"/<{ID}:record_id>/edit", methods=["GET", "POST"])
@requires(EDIT)
def edit(record_id):
    spec = _spec()
    record = _load(record_id, "edit")
    if request.method == "GET":
        values = {**forms.values_from_record(spec, record), **custom_web.values_from_record(spec, record)}
        return _form(values, lineform.rows_from_lines(record.lines), {}, {}, record=record, version=record.version)
    header, rows = _typed()
    version = request.form.get("version")
    try:
        data = _load_input(spec, rows, editing=True)
        data.pop("status", None)  # the status changes through its own guarded action
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
            "Someone else changed this order while you were editing it. Nothing was saved: reload the order "
            "to see the current values, then make your change again.")]}, {}, record=record, version=version,
            status=409)
    except core_services.NotFound:
        abort(404)
    flash(_("Order %(number)s saved.", number=record.number), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record.id)))


def _typed():
    spec = _spec()
    header = {**forms.values_from_form(spec, request.form), **custom_web.values_from_form(spec, request.form)}
    return header, lineform.rows_from_form(request.form)


def _load_input(spec, rows, editing=False) -> dict:
    data = forms.data_from_form(spec, request.form)
    data = {name: value for name, value in data.items() if name in lineform.HEADER_FIELDS}
    custom = custom_web.data_from_form(spec, request.form)
    if custom is not None:
        data["custom"] = custom
    data["lines"] = lineform.schema_input(rows)
    return schema_for(spec, scope(), partial=editing).load(data) if editing else \
        schema_for(spec, scope()).load(data)


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
    shown_fields = lineform.HEADER_FIELDS if record is None else tuple(
        name for name in lineform.HEADER_FIELDS if name != "status")
    header = [f for f in forms.build_form(spec, values, errors, action) if f.name in shown_fields]
    for field in header:
        if field.name == "status":  # a new order starts pending payment or confirmed
            field.options = [(value, label) for value, label in field.options
                             if value in (statuses.PENDING_PAYMENT, statuses.CONFIRMED)]
            field.blank_option = False
    custom_sections = custom_web.form_sections(spec, values, errors, action)
    shown = {f.name for f in header} | {f.name for _t, items in custom_sections for f in items} | {"lines"}
    general = [m for name, msgs in errors.items() if name not in shown for m in msgs]
    return render_template(
        "orders/form.html", spec=spec, record=record, version=version, header=header,
        custom_sections=custom_sections, general_errors=general, line_errors=errors.get("lines", []),
        rows=lineform.render_rows(rows, line_errors),
        template_row=lineform.render_rows(lineform.blank_rows(1), {}, placeholder="__index__")[0],
        next=request.values.get("next", "")), status


# ------------------------------------------------------------------ conversion of a quote

@bp.route(f"/from-quote/<{ID}:quote_id>", methods=["POST"])
@requires(CREATE)
def from_quote(quote_id):
    try:
        order = services.create_from_quote(db(), current().entities, quote_id)
        db().commit()
    except core_services.NotFound:
        db().rollback()
        abort(404)
    except ValidationError as err:
        db().rollback()
        for messages in _messages(err).values():
            for message in messages:
                flash(message, "danger")
        return redirect(url_for("web.record_detail", entity="quote", record_id=quote_id))
    except IntegrityError:  # converted by someone else at the same moment: the first one stands
        db().rollback()
        flash(_("This quote was already converted into an order."), "danger")
        return redirect(url_for("web.record_detail", entity="quote", record_id=quote_id))
    flash(_("Order %(number)s made from the quote.", number=order.number), "success")
    return redirect(detail_url(_spec(), order.id))


# ------------------------------------------------------------------ status

@bp.route(f"/<{ID}:record_id>/status", methods=["POST"])
@requires(EDIT)
def change_status(record_id):
    order = _load(record_id, "edit")
    try:
        data = StatusChangeSchema().load({"status": request.form.get("status", ""),
                                          "version": request.form.get("version") or None})
        services.change_status(db(), current().entities, order.id, data["status"], data.get("version"))
    except ValidationError as err:
        db().rollback()
        for message in _messages(err).get("status", []) or [m for ms in _messages(err).values() for m in ms]:
            flash(message, "danger")
        return _back(order.id)
    except core_services.StaleVersion:
        db().rollback()
        flash(_("Someone else changed this order meanwhile. Nothing was saved: check the status and try again."),
              "danger")
        return _back(order.id)
    except core_services.NotFound:
        abort(404)
    flash(_("Order %(number)s: %(status)s.", number=order.number, status=statuses.label(data["status"])), "success")
    return _back(order.id)


# ------------------------------------------------------------------ shipments

@bp.route(f"/<{ID}:record_id>/shipments/new", methods=["GET", "POST"])
@requires(EDIT)
def ship(record_id):
    order = _load(record_id, "edit")
    if request.method == "GET":
        from core import numbering
        return _ship_form(order, {"shipped_on": numbering.today().isoformat()}, {})
    typed = {key: request.form.get(key, "") for key in request.form if key != "csrf_token"}
    try:
        data = ShipmentSchema().load({name: typed.get(name, "") for name in
                                      ("shipped_on", "carrier", "tracking_number", "note")})
        quantities = shipments.parse_quantities(order, typed)
        shipments.record_shipment(db(), order, data, quantities)
        db().commit()
    except ValidationError as err:
        db().rollback()
        return _ship_form(_load(record_id, "edit"), typed, _messages(err), 422)
    flash(_("Shipment recorded."), "success")
    return _back(order.id, "#shipments")


def _ship_form(order, values, errors, status=200):
    return render_template("orders/ship_form.html", order=order, values=values, errors=errors,
                           field=shipments.quantity_field, blocked=order.status in statuses.NOT_SHIPPABLE,
                           status_label=statuses.label(order.status)), status


@bp.route(f"/<{ID}:record_id>/shipments/<{ID}:shipment_id>/status", methods=["POST"])
@requires(EDIT)
def shipment_status(record_id, shipment_id):
    order = _load(record_id, "edit")
    try:
        data = ShipmentStatusSchema().load({"status": request.form.get("status", ""),
                                            "on": request.form.get("on") or None})
        shipment = shipments.set_shipment_status(db(), order, shipment_id, data["status"], data.get("on"))
        if shipment is None:
            db().rollback()
            abort(404)
        db().commit()
    except ValidationError as err:
        db().rollback()
        for messages in _messages(err).values():
            for message in messages:
                flash(message, "danger")
        return _back(order.id, "#shipments")
    flash(_("Shipment marked returned: its quantities are unshipped again.") if data["status"] == "returned"
          else _("Shipment marked delivered."), "success")
    return _back(order.id, "#shipments")


@bp.route(f"/<{ID}:record_id>/exception/clear", methods=["POST"])
@requires(EDIT)
def clear_exception(record_id):
    order = _load(record_id, "edit")
    chasing.clear_exception(db(), order)
    db().commit()
    flash(_("The return is marked as handled."), "success")
    return _back(order.id)


# ------------------------------------------------------------------ reviews

@bp.route(f"/<{ID}:record_id>/reviews", methods=["POST"])
@requires(EDIT)
def review_add(record_id):
    order = _load(record_id, "edit")
    line_id = parse_id(request.form.get("line_id"))
    if line_id is None:
        abort(404)
    return _save_review(order, lambda data: reviews.add_review(db(), order, line_id, data))


@bp.route(f"/<{ID}:record_id>/reviews/<{ID}:review_id>", methods=["POST"])
@requires(EDIT)
def review_edit(record_id, review_id):
    order = _load(record_id, "edit")
    return _save_review(order, lambda data: reviews.update_review(db(), order, review_id, data))


def _save_review(order, save):
    typed = {name: request.form.get(name, "") for name in ("rating", "comment", "follow_up", "follow_up_status")}
    try:
        data = ReviewSchema().load({k: v for k, v in typed.items() if v.strip() or k in ("comment", "follow_up")})
        if save(data) is None:
            db().rollback()
            abort(404)
        db().commit()
    except ValidationError as err:
        db().rollback()
        for messages in _messages(err).values():
            for message in messages:
                flash(message, "danger")
        return _back(order.id, "#reviews")
    flash(_("Review saved."), "success")
    return _back(order.id, "#reviews")


# ------------------------------------------------------------------ batch actions (core list_actions)

@bp.route("/batch/<kind>", methods=["POST"])
@requires(EDIT)
def batch(kind):
    """Bulk action on the orders ticked in the list: the first POST (from the list) asks for the value,
    the second one (``apply``) changes the orders the user may edit and says which were skipped and why.
    Ids outside the user's scope are never changed nor named."""
    if kind not in BATCH_KINDS:
        abort(404)
    ids = list(dict.fromkeys(i for i in (parse_id(v) for v in request.form.getlist("ids")) if i))[:1000]
    back = safe_next(request.form.get("next"), url_for("web.record_list", entity="order"))
    if not ids:
        flash(_("Select at least one order."), "danger")
        return redirect(back)
    spec = _spec()
    if "apply" not in request.form:
        return _batch_form(kind, ids, back, services.editable_orders(db(), spec, ids), {}, {})
    typed = {"remark": request.form.get("remark", ""), "status": request.form.get("status", ""),
             "free_shipping": request.form.get("free_shipping", "")}
    value, errors = _batch_value(kind, typed)
    if errors:
        return _batch_form(kind, ids, back, services.editable_orders(db(), spec, ids), typed, errors, 422)
    changed, skipped = services.batch(db(), spec, ids, kind, value)
    db().commit()
    return render_template("orders/batch_result.html", kind=kind, changed=changed, back=back,
                           skipped=[(order, reason) for order, reason in skipped if order is not None],
                           hidden=sum(1 for order, _reason in skipped if order is None), label=statuses.label)


def _batch_value(kind, typed):
    if kind == "remark":
        remark = typed["remark"].strip()
        if len(remark) > 5000:
            return None, {"remark": [_("Longer than maximum length 5000.")]}
        return remark or None, {}
    if kind == "status":
        if typed["status"] not in statuses.LABELS:
            return None, {"status": [_("Choose a status.")]}
        return typed["status"], {}
    if typed["free_shipping"] not in ("yes", "no"):
        return None, {"free_shipping": [_("Choose yes or no.")]}
    return typed["free_shipping"] == "yes", {}


def _batch_form(kind, ids, back, orders, values, errors, status=200):
    manual = sorted({target for targets in statuses.MANUAL.values() for target in targets},
                    key=statuses.STATUSES.index)
    return render_template("orders/batch_form.html", kind=kind, ids=ids, back=back, orders=orders,
                           values=values, errors=errors, label=statuses.label, hidden=len(ids) - len(orders),
                           choices=[(value, statuses.label(value)) for value in manual],
                           kinds=BATCH_KINDS), status


# ------------------------------------------------------------------ unpaid orders (催付)

@bp.route("/unpaid")
@requires(VIEW)
def unpaid():
    rows, next_after = chasing.unpaid_page(db(), after_id=parse_id(request.args.get("after")), limit=page_limit(),
                                           customer_id=parse_id(request.args.get("customer_id")))
    editable = services.editable_ids(db(), _spec(), [order.id for order, _p, _o in rows])
    return render_template("orders/unpaid.html", rows=rows, editable=editable,
                           label=statuses.label, wait=chasing.can_remind_at,
                           next_url=url_for("orders.unpaid", **{**request.args.to_dict(), "after": next_after})
                           if next_after else None)


@bp.route(f"/<{ID}:record_id>/remind", methods=["POST"])
@requires(EDIT)
def remind(record_id):
    order = _load(record_id, "edit")
    paid = chasing.paid_amounts(db(), [order.id])[order.id]
    back = safe_next(request.form.get("next"), url_for("orders.unpaid"))
    outstanding = order.total - paid
    if outstanding <= 0 or order.status == statuses.CANCELLED:
        flash(_("Order %(number)s is paid: no reminder needed.", number=order.number), "warning")
        return redirect(back)
    subject, text = chasing.reminder_text(order, outstanding)
    try:
        chasing.send_reminder(db(), order, subject=subject, text=text)
        db().commit()
    except ValidationError as err:
        db().rollback()
        for messages in _messages(err).values():
            for message in messages:
                flash(message, "danger")
        return redirect(back)
    flash(_("Payment reminder for order %(number)s sent to %(email)s.", number=order.number,
            email=order.contact.email), "success")
    return redirect(back)


# ------------------------------------------------------------------ exceptions

@bp.route("/exceptions")
@requires(VIEW)
def exceptions():
    kind = request.args.get("kind", "overdue")
    kind = kind if kind in chasing.EXCEPTION_KINDS else "overdue"
    owner_id = parse_id(request.args.get("owner_id"))
    rows, next_after = chasing.exception_page(db(), kind, after_id=parse_id(request.args.get("after")),
                                              limit=page_limit(), owner_id=owner_id,
                                              customer_id=parse_id(request.args.get("customer_id")))
    return render_template(
        "orders/exceptions.html", kind=kind, kinds=chasing.EXCEPTION_KINDS, rows=rows,
        counts=chasing.exception_counts(db()), cap=chasing.COUNT_CAP, label=statuses.label,
        days=chasing.ship_within_days(), owner_id=owner_id, owners=owner_options(_spec(), "view"),
        next_url=url_for("orders.exceptions", **{**request.args.to_dict(), "after": next_after})
        if next_after else None)
