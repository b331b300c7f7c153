"""Pages of the customer pool. Every view is declared with ``core.authz`` (a contract test checks it).

Pool customers are listed and claimed through ``services`` (the documented system-session exception, always
behind ``visible_pool``); everything else reads through the request's scoped session ``db()``.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core.authz import has, requires
from core.i18n import _, plain
from core.models import Customer, User
from core.runtime import current, db
from core.web.common import hidden_fields, parse_id, safe_next, scope
from core.web.pickers import owner_options
from plugins.pool import services
from plugins.pool.models import Pool
from plugins.pool.schemas import PoolSchema

bp = Blueprint("pool", __name__, url_prefix="/pool", template_folder="templates")


def _manages_all() -> bool:
    return has("pool.pool.manage")


def _visible_pool_or_404(pool_id):
    pool = services.visible_pool(db(), g.user, pool_id, _manages_all())
    if pool is None:
        abort(404)  # a pool the user may not see answers exactly like a missing one
    return pool


@bp.route("/")
@requires("pool.customer.view")
def index():
    pools = services.visible_pools(db(), g.user, _manages_all())
    return render_template("pool/index.html", pools=pools, sizes=services.pool_sizes(pools))


@bp.route("/<int:pool_id>")
@requires("pool.customer.view")
def pool_page(pool_id):
    pool = _visible_pool_or_404(pool_id)
    search = (request.args.get("q") or "").strip()[:100]
    hidden = hidden_fields(current().entities["customer"])
    rows, next_before = services.pool_customers(pool, search=search, before=parse_id(request.args.get("before")),
                                                hidden=hidden)
    assignees = owner_options(current().entities["customer"], "edit") if has("pool.customer.assign") else []
    return render_template("pool/pool.html", pool=pool, rows=rows, next_before=next_before, search=search,
                           reasons=services.REASON_LABELS, can_claim=has("pool.customer.claim"),
                           assignees=assignees)


@bp.route("/claim/<int:customer_id>", methods=["POST"])
@requires("pool.customer.claim")
def claim(customer_id):
    back = safe_next(request.form.get("next"), url_for("pool.index"))
    try:
        name = services.claim(g.user, customer_id, _manages_all())
    except services.NotVisible:
        abort(404)
    except services.PoolError as refused:
        flash(str(refused), "danger")
        return redirect(back)
    flash(_("“%(name)s” is now your customer.", name=name), "success")
    return redirect(url_for("web.record_detail", entity="customer", record_id=customer_id))


@bp.route("/assign/<int:customer_id>", methods=["POST"])
@requires("pool.customer.assign")
def assign(customer_id):
    """A manager gives a pool customer to a member of his team (someone he may make owner of customers)."""
    back = safe_next(request.form.get("next"), url_for("pool.index"))
    spec = current().entities["customer"]
    assignee_id = parse_id(request.form.get("assignee_id"))
    assignee = db().execute(select(User).where(User.id == assignee_id, User.active.is_(True))
                            ).scalar_one_or_none() if assignee_id else None
    if assignee is None or not scope().may_assign(spec, assignee, "edit"):
        flash(_("Choose a member of your team."), "danger")
        return redirect(back)
    try:
        name = services.claim(g.user, customer_id, _manages_all(), assignee=assignee)
    except services.NotVisible:
        abort(404)
    except services.PoolError as refused:
        flash(str(refused), "danger")
        return redirect(back)
    flash(_("“%(name)s” now belongs to %(user)s.", name=name, user=assignee.name), "success")
    return redirect(back)


@bp.route("/release", methods=["GET", "POST"])
@requires("pool.customer.release")
def release():
    """Choose a pool for the customers in ``ids`` (record action, or the customer list's bulk form), then
    release them. Only customers the user may edit can be released."""
    ids = list(dict.fromkeys(i for i in (parse_id(v) for v in request.values.getlist("ids")) if i))
    customers = _editable_customers(ids)
    pools = services.visible_pools(db(), g.user, _manages_all())
    pool_id = parse_id(request.form.get("pool_id")) if request.method == "POST" else None
    error = None
    if request.method == "POST" and "pool_id" in request.form:
        try:
            moved = services.release(db(), g.user, customers, pool_id, _manages_all())
        except services.PoolError as refused:
            error = str(refused)
        else:
            flash(_("%(count)d customer(s) released to the pool.", count=moved), "success")
            return redirect(url_for("web.record_list", entity="customer"))
    status = 400 if error else 200
    return render_template("pool/release.html", customers=customers, pools=pools, error=error,
                           chosen=pool_id), status


def _editable_customers(ids):
    if not ids:
        abort(400, description=_("Select at least one customer."))
    spec = current().entities["customer"]
    if not has(spec.permission("edit")):
        abort(403)
    criteria = scope().criteria(spec, "edit")
    stmt = select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
    if criteria is not None:
        stmt = stmt.where(criteria)
    customers = db().execute(stmt).unique().scalars().all()
    if len(customers) != len(ids):
        abort(404)  # one of them is out of the user's reach: answer like a missing record
    return customers


@bp.route("/at-risk")
@requires("pool.customer.view")
def at_risk():
    return render_template("pool/at_risk.html", reminders=services.reminders_of(db(), g.user.id),
                           reasons=services.REASON_LABELS)


@bp.route("/reminders/<int:reminder_id>/dismiss", methods=["POST"])
@requires("pool.customer.view")
def dismiss(reminder_id):
    if not services.dismiss_reminder(db(), g.user.id, reminder_id):
        abort(404)
    flash(_("Reminder dismissed."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("pool.at_risk")))


# ---------------------------------------------------------------------------------------------- admin

@bp.route("/admin")
@requires("pool.pool.manage")
def admin_list():
    pools = db().execute(select(Pool).order_by(Pool.name, Pool.id)).unique().scalars().all()
    return render_template("pool/admin_list.html", pools=pools, sizes=services.pool_sizes(pools))


@bp.route("/admin/new", methods=["GET", "POST"])
@requires("pool.pool.manage")
def admin_new():
    return _pool_form(None)


@bp.route("/admin/<int:pool_id>/edit", methods=["GET", "POST"])
@requires("pool.pool.manage")
def admin_edit(pool_id):
    pool = db().execute(select(Pool).where(Pool.id == pool_id)).unique().scalar_one_or_none()
    if pool is None:
        abort(404)
    return _pool_form(pool)


FORM_FIELDS = ("name", "department_id", "days_without_follow_up", "days_without_deal", "warn_days_before",
               "capacity", "active")


def _pool_form(pool):
    departments = services.department_choices(db())
    if request.method == "GET":
        values = {name: getattr(pool, name) for name in FORM_FIELDS} if pool else {"warn_days_before": 3,
                                                                                  "active": True}
        return render_template("pool/admin_form.html", pool=pool, values=values, errors={},
                               departments=departments)
    values = {name: request.form.get(name, "") for name in FORM_FIELDS if name in request.form}
    errors = {}
    try:
        data = PoolSchema().load(values)
    except ValidationError as invalid:
        # a lazily translated message arrives as one string, not a list of them
        errors = {field: [messages] if isinstance(messages, str) else messages
                  for field, messages in plain(invalid.messages).items()}
    else:
        if data["department_id"] is not None and data["department_id"] not in dict(departments):
            errors = {"department_id": [_("Choose a department from the list.")]}
    if errors:
        return render_template("pool/admin_form.html", pool=pool, values=values, errors=errors,
                               departments=departments), 400
    saved = services.save_pool(db(), data, pool, g.user.id)
    flash(_("Pool “%(name)s” saved.", name=saved.name), "success")
    return redirect(url_for("pool.admin_list"))
