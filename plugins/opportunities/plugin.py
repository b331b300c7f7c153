"""The "opportunities" module (销售机会): what it adds to Guanxi, one hook each.

Entry point ``opportunities = plugins.opportunities.plugin``: permissions ``opportunities.*``, tables
``opportunities_*``, blueprint ``opportunities``, version table ``alembic_version_opportunities``.
"""
from flask import url_for

from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.schemas import CUSTOMER_SOURCES
from core.ui import Action, MenuItem, Panel, Widget
from hooks import hookimpl
from plugins.opportunities import panels, services
from plugins.opportunities.models import Opportunity, OpportunityStage, OpportunityStageHistory
from plugins.opportunities.reasons import CLOSE_REASONS
from plugins.opportunities.schemas import OpportunitySchema
from plugins.opportunities.stages import StageChoices

ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
VIEW = "opportunities.opportunity.view"


def _grants(actions, level):
    return {f"opportunities.opportunity.{action}": level for action in actions}


@hookimpl
def register_models():
    return [OpportunityStage, Opportunity, OpportunityStageHistory]


@hookimpl
def register_blueprints(app):
    from plugins.opportunities.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    return [Permission(f"opportunities.opportunity.{action}", _l("Opportunities: %(action)s", action=label),
                       scoped=True) for action, label in ACTIONS.items()] + [
        Permission("opportunities.stage.manage", _l("Opportunities: configure pipeline stages"))]


@hookimpl
def register_roles():
    everything = {**_grants(ACTIONS, "all"), "opportunities.stage.manage": "all"}
    return [
        StockRole("salesperson", _grants(("view", "create", "edit", "delete"), "own")),
        StockRole("sales_manager", _grants(ACTIONS, "team")),
        StockRole("boss", everything),
        StockRole("admin", everything),
    ]


@hookimpl
def entity_specs():
    return [EntitySpec(
        name="opportunity", module="opportunities", model=Opportunity, schema=OpportunitySchema,
        label=_l("Opportunity"), label_plural=_l("Opportunities"), icon="bi-graph-up-arrow",
        fields=[
            Field("name", _l("Opportunity name"), required=True),
            Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
            Field("contact_id", _l("Contact"), "reference", reference="contact"),
            Field("stage_id", _l("Stage"), "select", StageChoices(),
                  help=_l("Blank: the first stage of the pipeline.")),
            Field("amount", _l("Amount"), "number", required=True),
            Field("currency", _l("Currency"), help=_l("Three-letter code such as CNY; blank: the default currency.")),
            Field("expected_close", _l("Expected close date"), "date"),
            Field("source", _l("Source"), "select", list(CUSTOMER_SOURCES)),
            Field("competitors", _l("Competitors"), "textarea"),
            Field("close_reason", _l("Win/loss reason"), "select", list(CLOSE_REASONS),
                  help=_l("Required when the stage is won or lost.")),
            Field("close_note", _l("Win/loss note"), "textarea"),
            Field("description", _l("Description"), "textarea"),
            Field("owner_id", _l("Owner"), "owner"),
        ],
        list_columns=["name", "customer_id", "stage_id", "amount", "currency", "expected_close", "owner_id"],
        search_fields=["name"],
        sort_fields=["id", "expected_close", "amount", "name", "updated_at"],
        filter_fields=["stage_id", "owner_id", "customer_id", "currency"],
        follow_ups=True,
        bulk_import=False,  # imported through on_save too: stage history, won/lost reason, closed_at
        on_save=services.apply_rules,
    )]


@hookimpl
def menu_items(user):
    # The forecast is one click away from the board and the dashboard tile: no menu entry of its own.
    return [
        MenuItem(_l("Opportunities"), "web.record_list", VIEW, order=25, icon="bi-graph-up-arrow",
                 url_kwargs={"entity": "opportunity"}),
        MenuItem(_l("Pipeline board"), "opportunities.board", VIEW, order=26, icon="bi-kanban"),
        MenuItem(_l("Opportunity stages"), "opportunities.stages", "opportunities.stage.manage", section="admin",
                 order=60),
    ]


@hookimpl
def record_panels(entity, record, user):
    if not has(VIEW):
        return []
    if entity == "customer":
        return [Panel("opportunities", _l("Opportunities"), "opportunities/customer_panel.html", order=30,
                      context=panels.customer_context(record))]
    if entity == "opportunity":
        return [Panel("opportunity_stage", _l("Stage and history"), "opportunities/stage_panel.html", order=5,
                      context=panels.stage_context(record))]
    return []


@hookimpl
def record_actions(entity, record, user):
    if entity == "customer":
        return [Action(key="opportunities.new", label=_l("New opportunity"),
                       permission="opportunities.opportunity.create",
                       url=url_for("web.record_new", entity="opportunity", customer_id=record.id))]
    if entity == "opportunity":
        return [Action(key="opportunities.board", label=_l("Pipeline board"), permission=VIEW,
                       url=url_for("opportunities.board"))]
    return []


@hookimpl
def dashboard_widgets(user):
    if not has(VIEW):
        return []
    return [Widget("opportunity_forecast", _l("Weighted sales forecast"), "opportunities/widget_forecast.html",
                   load=lambda: panels.widget_context(db()), order=30, width=6)]


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Duplicate customers (or contacts) merged into one: their opportunities follow the survivor.
    if entity == "customer":
        services.relink(session, "customer_id", survivor_id, merged_ids)
    elif entity == "contact":
        services.relink(session, "contact_id", survivor_id, merged_ids)


@hookimpl
def pool_deal_dates(session, customer_ids):
    # For the customer pool: a won opportunity is a deal, dated by when it was won.
    return services.latest_won_dates(session, customer_ids)


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.opportunities import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
