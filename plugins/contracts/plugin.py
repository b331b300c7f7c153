"""The "contracts" module (合同 and delivery plans, 交付计划): what it adds to Guanxi, one hook each.

Entry point ``contracts = plugins.contracts.plugin``: permissions start with ``contracts.``, tables with
``contracts_``, the blueprints are ``contracts`` (pages) and ``contracts_api`` (milestones in the REST API),
the Alembic version table is ``alembic_version_contracts``. Requires ``quotes`` (a contract may come from a
quote: real foreign key downstream only).
"""
from flask import url_for

from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import Action, MenuItem, Widget
from hooks import hookimpl
from plugins.contracts import panels, services
from plugins.contracts.models import Contract, DeliveryPlan
from plugins.contracts.schemas import CURRENCY_CHOICES, STATUS_CHOICES, ContractSchema

REQUIRES = ("quotes",)
ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
VIEW, CREATE = "contracts.contract.view", "contracts.contract.create"
# Links to optional modules: a reference field only when that module is enabled (see app_configured).
OPTIONAL_LINKS = (("opportunity_id", _l("Opportunity"), "opportunity"), ("project_id", _l("Project"), "project"))


def _grants(actions, level):
    return {f"contracts.contract.{action}": level for action in actions}


@hookimpl
def register_models():
    return [Contract, DeliveryPlan]


@hookimpl
def register_blueprints(app):
    from core.web import csrf
    from plugins.contracts.api import bp as api_bp
    from plugins.contracts.views import bp
    app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API authenticates by token only, never by cookie (as core's API)
    app.register_blueprint(api_bp)


@hookimpl
def register_permissions():
    return [Permission(f"contracts.contract.{action}", _l("Contracts: %(action)s", action=label), scoped=True)
            for action, label in ACTIONS.items()]


@hookimpl
def register_roles():
    return [
        StockRole("salesperson", _grants(("view", "create", "edit", "delete"), "own")),
        StockRole("sales_manager", _grants(ACTIONS, "team")),
        StockRole("boss", _grants(ACTIONS, "all")),
        StockRole("admin", _grants(ACTIONS, "all")),
    ]


@hookimpl
def entity_specs():
    return [EntitySpec(
        name="contract", module="contracts", model=Contract, schema=ContractSchema,
        label=_l("Contract"), label_plural=_l("Contracts"), icon="bi-file-earmark-text", title_attr="number",
        fields=[
            Field("number", _l("Contract number"), help=_l("Leave blank to number it automatically.")),
            Field("title", _l("Contract title"), required=True),
            Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
            Field("contact_id", _l("Contact"), "reference", reference="contact"),
            Field("currency", _l("Currency"), "select", CURRENCY_CHOICES),
            Field("amount", _l("Contract amount"), "number", required=True),
            Field("status", _l("Status"), "select", STATUS_CHOICES,
                  help=_l("Draft → in force → completed or terminated; a draft may be cancelled.")),
            Field("signed_on", _l("Signed on"), "date"),
            Field("starts_on", _l("Starts on"), "date"),
            Field("ends_on", _l("Ends on (expiry)"), "date"),
            Field("renewal_on", _l("Renewal decision by"), "date"),
            Field("terms", _l("Terms"), "textarea"),
            Field("owner_id", _l("Owner"), "owner"),
        ],
        list_columns=["number", "title", "customer_id", "amount", "currency", "status", "ends_on", "owner_id"],
        search_fields=["number", "title"],
        sort_fields=["id", "number", "amount", "ends_on", "updated_at"],
        filter_fields=["status", "customer_id", "currency", "owner_id"],
        # imported one by one through on_save: numbers, status flow and links are checked for every row
        custom_fields=True, bulk_import=False, follow_ups=True,
        on_save=services.on_save,
    )]


@hookimpl
def app_configured(app):
    # Opportunity and project links are shown as references only when those modules are enabled.
    registry = app.extensions["guanxi"].entities
    spec = registry.get("contract")
    if spec is None:
        return
    position = [f.name for f in spec.fields].index("currency")
    for column, label, entity in OPTIONAL_LINKS:
        if registry.get(entity) is not None and spec.field(column) is None:
            spec.fields.insert(position, Field(column, label, "reference", reference=entity))
            position += 1
            spec.filter_fields.append(column)


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Contracts"), "web.record_list", VIEW, order=30, icon="bi-file-earmark-text",
                 url_kwargs={"entity": "contract"}),
        MenuItem(_l("Expiring contracts"), "contracts.expiring", VIEW, order=31, icon="bi-hourglass-split"),
    ]


@hookimpl
def record_panels(entity, record, user):
    if not has(VIEW):
        return []
    if entity in panels.ANCHOR_COLUMNS:
        panel = panels.related_contracts(db(), entity, record)
        return [panel] if panel is not None else []
    if entity == "contract":
        return [panels.overview(db(), record), panels.delivery_plan(db(), record)]
    return []


@hookimpl
def record_actions(entity, record, user):
    if entity == "quote" and getattr(record, "status", None) == "accepted" \
            and not getattr(record, "superseded", False) and not services.converted(db(), record.id):
        return [Action(key="contracts.from_quote", label=_l("Convert to contract"), method="POST",
                       url=url_for("contracts.convert_quote", quote_id=record.id), permission=CREATE,
                       style="primary")]
    if entity == "customer":
        return [Action(key="contracts.new", label=_l("New contract"), permission=CREATE,
                       url=url_for("web.record_new", entity="contract", customer_id=record.id))]
    if entity == "contract" and record.status in services.RENEWABLE_STATUSES:
        return [Action(key="contracts.renew", label=_l("Renew"), method="POST", permission=CREATE,
                       url=url_for("contracts.renew", contract_id=record.id),
                       confirm=_l("Create the follow-on contract for the next period?"))]
    return []


@hookimpl
def dashboard_widgets(user):
    if not has(VIEW):
        return []
    return [Widget("contracts_expiring", _l("Contracts expiring soon"), "contracts/widget_expiring.html",
                   load=lambda: panels.expiring_widget(db()), order=40, width=6)]


@hookimpl
def deal_chain(entity, record, user, session):
    if not has(VIEW):
        return []
    from plugins.contracts import chain
    return chain.stages(entity, record, session)


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Duplicate customers (or contacts) merged into one: their contracts follow the survivor.
    if entity in ("customer", "contact"):
        services.relink(session, f"{entity}_id", survivor_id, merged_ids)


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.contracts import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
