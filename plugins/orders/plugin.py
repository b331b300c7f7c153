"""The "orders" module (订单 with shipments 发货明细): what it adds to Guanxi, one hook each.

Entry point ``orders = plugins.orders.plugin``: permissions ``orders.*``, tables ``orders_*``, blueprint
``orders``, Alembic version table ``alembic_version_orders``. Requires contracts (and through it quotes):
an order may belong to a contract and come from a quote, with real foreign keys.
"""
from flask import url_for

from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import Action, MenuItem
from hooks import hookimpl
from plugins.orders import models, panels, services
# the bulk importer of retail data (its CLI command, and the job "orders.import_retail" it registers)
from plugins.orders import retail_import
from plugins.orders.schemas import OrderSchema
from plugins.orders.statuses import STATUS_CHOICES

REQUIRES = ("contracts",)
ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
VIEW, CREATE, EDIT = "orders.order.view", "orders.order.create", "orders.order.edit"


def _grants(actions, level):
    return {f"orders.order.{action}": level for action in actions}


@hookimpl
def register_models():
    return [models.Order, models.OrderLine, models.Shipment, models.ShipmentLine, models.Review]


@hookimpl
def register_blueprints(app):
    from plugins.orders.views import bp, generic_form_to_order_form
    app.register_blueprint(bp)
    # The order form carries the lines editor: core's generic create/edit pages of "order" lead to it.
    app.before_request(generic_form_to_order_form)


@hookimpl
def register_permissions():
    return [Permission(f"orders.order.{action}", _l("Orders: %(action)s", action=label), scoped=True)
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
        name="order", module="orders", model=models.Order, schema=OrderSchema,
        label=_l("Sales order"), label_plural=_l("Orders"), icon="bi-cart-check", title_attr="number",
        fields=[
            Field("number", _l("Order number"), help=_l("Given when the order is saved.")),
            Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
            Field("contact_id", _l("Contact"), "reference", reference="contact"),
            Field("contract_id", _l("Contract"), "reference", reference="contract"),
            Field("status", _l("Status"), "select", list(STATUS_CHOICES)),
            Field("currency", _l("Currency"), "select", panels.CurrencyChoices(),
                  help=_l("Blank: the default currency.")),
            Field("ordered_on", _l("Order date"), "date", help=_l("Blank: today.")),
            Field("subtotal", _l("Subtotal"), "number"),
            Field("tax_total", _l("Tax"), "number"),
            Field("total", _l("Total"), "number"),
            Field("free_shipping", _l("Free shipping"), "checkbox"),
            Field("external_ref", _l("External reference")),
            Field("owner_id", _l("Owner"), "owner"),
            Field("remark", _l("Remark"), "textarea"),
        ],
        list_columns=["number", "customer_id", "status", "total", "currency", "ordered_on", "owner_id"],
        search_fields=["number", "external_ref"],
        sort_fields=["id", "number", "ordered_on", "total", "updated_at"],
        filter_fields=["status", "customer_id", "contract_id", "currency", "free_shipping", "owner_id"],
        # lines cannot come from a spreadsheet row: orders are made in the form, by conversion or the API
        custom_fields=True, importable=False, bulk_import=False, follow_ups=True,
        on_save=services.on_save,
    )]


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Orders"), "web.record_list", VIEW, order=29, icon="bi-cart-check",
                 url_kwargs={"entity": "order"}),
        MenuItem(_l("Unpaid orders"), "orders.unpaid", VIEW, order=30, icon="bi-cash-coin"),
        MenuItem(_l("Order exceptions"), "orders.exceptions", VIEW, order=31, icon="bi-exclamation-triangle"),
    ]


@hookimpl
def record_panels(entity, record, user):
    if not has(VIEW):
        return []
    if entity == "order":
        return panels.order_panels(db(), record)
    if entity in ("customer", "contract"):
        return [panels.related_orders(db(), entity, record)]
    if entity == "product":
        return [panels.product_reviews(db(), record)]
    return []


@hookimpl
def record_actions(entity, record, user):
    if entity == "order":
        return panels.order_actions(db(), record)
    if entity == "quote" and has(CREATE) and getattr(record, "status", None) == "accepted" \
            and not getattr(record, "superseded", False) and services.order_of_quote(db(), record.id) is None:
        return [Action(key="orders.from_quote", label=_l("Convert to order"), method="POST",
                       url=url_for("orders.from_quote", quote_id=record.id), permission=CREATE, style="primary")]
    if entity == "contract" and has(CREATE):
        return [Action(key="orders.new", label=_l("New order"), permission=CREATE,
                       url=url_for("orders.new", contract_id=record.id))]
    if entity == "customer" and has(CREATE):
        return [Action(key="orders.new", label=_l("New order"), permission=CREATE,
                       url=url_for("orders.new", customer_id=record.id))]
    return []


@hookimpl
def list_actions(entity, user):
    if entity != "order":
        return []
    return [Action(key=f"orders.batch_{kind}", label=label, url=url_for("orders.batch", kind=kind),
                   method="POST", permission=EDIT)
            for kind, label in (("remark", _l("Batch remark")), ("status", _l("Batch status change")),
                                ("free_shipping", _l("Batch free shipping")))]


@hookimpl
def deal_chain(entity, record, user, session):
    from plugins.orders import chain
    return chain.stages(session, entity, record)


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Merged duplicate customers (contacts): their orders follow the survivor.
    from sqlalchemy import update
    column = {"customer": models.Order.customer_id, "contact": models.Order.contact_id}.get(entity)
    if column is not None:
        session.execute(update(models.Order).where(column.in_(merged_ids)).values({column.key: survivor_id})
                        .execution_options(include_deleted=True, synchronize_session=False))


@hookimpl
def cli_commands():
    return [retail_import.orders_cli]  # `guanxi orders import-retail FILE --owner LOGIN`


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.orders import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
