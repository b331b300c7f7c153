"""The "pool" module (公海): owner-less customers, return rules, claim and release. One hook each.

Entry point ``pool = plugins.pool.plugin``: permissions ``pool.*``, tables ``pool_*``, blueprint ``pool``,
version table ``alembic_version_pool``. Reminders are delivered in the app (dashboard widget and the
"My customers at risk" page): core has no mail delivery yet.
"""
from flask import has_app_context, url_for

from core import jobs, signals
from core.authz import has
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import current, db
from core.ui import Action, MenuItem, Widget
from hooks import hookimpl
from plugins.pool import services
from plugins.pool.models import Pool, PoolClaim, PoolMembership, PoolReminder
from plugins.pool.rules import apply_pool_rules

PERMISSIONS = {
    "pool.customer.view": _l("Customer pool: see pools and their customers"),
    "pool.customer.claim": _l("Customer pool: claim customers"),
    "pool.customer.release": _l("Customer pool: release customers to a pool"),
    "pool.customer.assign": _l("Customer pool: give pool customers to team members"),
    "pool.pool.manage": _l("Customer pool: manage pools and their rules"),
}
SALES = ("pool.customer.view", "pool.customer.claim", "pool.customer.release")
WIDGET_ROWS = 10


@hookimpl
def register_models():
    return [Pool, PoolMembership, PoolClaim, PoolReminder]


@hookimpl
def register_blueprints(app):
    from plugins.pool.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMISSIONS.items()]


@hookimpl
def register_roles():
    everything = {name: "all" for name in PERMISSIONS}
    sales = {name: "all" for name in SALES}
    return [StockRole("salesperson", sales), StockRole("sales_manager", {**sales, "pool.customer.assign": "all"}),
            StockRole("boss", everything), StockRole("admin", everything)]


@hookimpl
def menu_items(user):
    return [MenuItem(_l("Customer pool (公海)"), "pool.index", "pool.customer.view", order=25, icon="bi-water"),
            MenuItem(_l("Customer pools"), "pool.admin_list", "pool.pool.manage", section="admin", order=60)]


@hookimpl
def record_actions(entity, record, user):
    if entity != "customer" or record.owner_id is None:
        return []
    return [Action(key="pool.release", label=_l("Release to pool"), permission="pool.customer.release",
                   url=url_for("pool.release", ids=record.id), style="warning")]


@hookimpl
def list_actions(entity, user):
    if entity != "customer":
        return []
    return [Action(key="pool.release", label=_l("Release to pool"), url=url_for("pool.release"), method="POST",
                   permission="pool.customer.release", style="warning")]


@hookimpl
def dashboard_widgets(user):
    if not has("pool.customer.view"):
        return []
    return [Widget("pool_reminders", _l("Customers returning to the pool soon"), "pool/widget.html",
                   load=lambda: {"reminders": services.reminders_of(db(), user.id, limit=WIDGET_ROWS),
                                 "reasons": services.REASON_LABELS},
                   order=15, width=6)]


@hookimpl
def scheduled_jobs():
    # nightly, after the day's follow-ups are in; crontab in the instance's time zone
    return [jobs.ScheduledJob("pool.apply_rules", apply_pool_rules, crontab={"minute": "30", "hour": "1"})]


@hookimpl
def app_configured(app):
    signals.owner_transferred.connect(_left_the_pool)  # the same function twice is one receiver


def _left_the_pool(sender, record_ids=(), **_kwargs):
    """A pool customer given an owner by core's transfer (a manager's bulk action) leaves its pool.

    Tidying only: pool pages already ignore customers that have an owner, and ``return_to_pool`` replaces a
    stale membership, so a transfer outside an app (a script driving core services directly) may skip it."""
    if not has_app_context():
        return
    if sender == "customer" and record_ids and current().pm.get_plugin("pool") is not None:
        services.forget_memberships(record_ids)


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.pool import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
