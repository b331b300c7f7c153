"""The "visits" module: what it adds to Guanxi, one hook each.

Found through the ``guanxi.plugins`` entry point ``visits = guanxi_example_visits.plugin``; the entry-point
name is the module name: permissions start with ``visits.``, tables with ``visits_``, the blueprint is
``visits`` and the Alembic version table is ``alembic_version_visits``.
"""
from flask import url_for

from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import Action, MenuItem, Panel
from guanxi_example_visits import services
from guanxi_example_visits.models import SiteVisit
from guanxi_example_visits.schemas import OUTCOME_CHOICES, SiteVisitSchema
from hooks import hookimpl

ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}


def _grants(actions, level):
    return {f"visits.site_visit.{action}": level for action in actions}


@hookimpl
def register_models():
    return [SiteVisit]


@hookimpl
def register_blueprints(app):
    from guanxi_example_visits.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    # scoped=True: granted with a data scope (own / team / all), like the core sales entities
    return [Permission(f"visits.site_visit.{action}", _l("Site visits: %(action)s", action=label), scoped=True)
            for action, label in ACTIONS.items()]


@hookimpl
def register_roles():
    everything = _grants(ACTIONS, "all")
    return [
        StockRole("salesperson", _grants(("view", "create", "edit", "delete"), "own")),
        StockRole("sales_manager", _grants(ACTIONS, "team")),
        StockRole("boss", everything),
        StockRole("admin", everything),
    ]


@hookimpl
def entity_specs():
    # With this one spec the generic list/detail/form pages, the REST API (/api/v1/site_visit), export,
    # search and the leak-matrix tests serve site visits without any further code.
    return [EntitySpec(
        name="site_visit", module="visits", model=SiteVisit, schema=SiteVisitSchema,
        label=_l("Site visit"), label_plural=_l("Site visits"), icon="bi-geo-alt", title_attr="purpose",
        fields=[
            Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
            Field("date", _l("Date"), "date", required=True),
            Field("purpose", _l("Purpose"), required=True),
            Field("outcome", _l("Outcome"), "select", list(OUTCOME_CHOICES)),
            Field("owner_id", _l("Owner"), "owner"),
        ],
        list_columns=["date", "customer_id", "purpose", "outcome", "owner_id"],
        search_fields=["purpose"],
        sort_fields=["id", "date", "updated_at"],
        filter_fields=["customer_id", "outcome", "owner_id"],
        custom_fields=False,
    )]


@hookimpl
def menu_items(user):
    # the module's landing page; it links on to the generic list of site visits
    return [MenuItem(_l("Site visits"), "visits.summary", "visits.site_visit.view", order=35, icon="bi-geo-alt")]


@hookimpl
def record_panels(entity, record, user):
    if entity != "customer" or not has("visits.site_visit.view"):
        return []
    visits = services.visits_of_customer(db(), record.id)  # scoped: only visits the user may see
    context = {"visits": visits, "customer": record, "outcomes": dict(OUTCOME_CHOICES)}
    return [Panel(key="visits", title=_l("Site visits"), template="visits/customer_panel.html", context=context,
                  order=50)]


@hookimpl
def record_actions(entity, record, user):
    if entity != "customer":
        return []
    return [Action(key="visits.new", label=_l("Log a site visit"), permission="visits.site_visit.create",
                   url=url_for("web.record_new", entity="site_visit", customer_id=record.id))]


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Duplicate customers merged into one: their visits follow the surviving customer.
    if entity == "customer":
        services.relink_visits(session, survivor_id, merged_ids)
