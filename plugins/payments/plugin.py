"""The "payments" module (回款): what it adds to Guanxi, one hook each.

Entry point ``payments = plugins.payments.plugin``: permissions ``payments.*``, tables ``payments_*``,
blueprint ``payments``, Alembic version table ``alembic_version_payments``. Needs orders (and through it
contracts): plans belong to a contract or an order.
"""
from flask import url_for

from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.ui import Action, MenuItem
from hooks import hookimpl
from plugins.payments import models, panels, services
from plugins.payments import totals  # noqa: F401  (installs the stored-totals flush listener)
from plugins.payments.schemas import (
    ALL_METHOD_CHOICES, CURRENCY_CHOICES, METHOD_CHOICES, PLAN_STATUS_CHOICES, PaymentPlanSchema, PaymentSchema,
    PrereceiptSchema,
)

REQUIRES = ("orders",)

ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
ENTITIES = {"plan": _l("Payment plans"), "payment": _l("Payments"), "prereceipt": _l("Pre-receipts")}
REPORT = "payments.report.view"


def _grants(entities, actions, level):
    return {f"payments.{entity}.{action}": level for entity in entities for action in actions}


@hookimpl
def register_models():
    return [models.PaymentPlan, models.Prereceipt, models.Payment, models.PrereceiptApplication]


@hookimpl
def register_blueprints(app):
    from plugins.payments.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    perms = [Permission(f"payments.{entity}.{action}", _l("%(entity)s: %(action)s", entity=label, action=verb),
                        scoped=True)
             for entity, label in ENTITIES.items() for action, verb in ACTIONS.items()]
    perms.append(Permission(REPORT, _l("Payments: receivables and ageing reports")))
    return perms


@hookimpl
def register_roles():
    # Salespeople plan and record what their own customers pay; a wrong payment is removed by a manager.
    everything = {**_grants(ENTITIES, ACTIONS, "all"), REPORT: "all"}
    return [
        StockRole("salesperson", {**_grants(("plan", "prereceipt"), ("view", "create", "edit", "delete"), "own"),
                                  **_grants(("payment",), ("view", "create"), "own"), REPORT: "own"}),
        StockRole("sales_manager", {**_grants(ENTITIES, ACTIONS, "team"), REPORT: "team"}),
        StockRole("boss", everything),
        StockRole("admin", everything),
    ]


def _amount_field(name, label):
    return Field(name, label, "number", required=True)


@hookimpl
def entity_specs():
    currency = Field("currency", _l("Currency"), "select", list(CURRENCY_CHOICES),
                     help=_l("Blank: the currency of the contract or order."))
    customer = Field("customer_id", _l("Customer"), "reference", reference="customer",
                     help=_l("Blank: the customer of the contract or order."))
    return [
        EntitySpec(
            name="payment_plan", module="payments", permission_prefix="payments.plan", model=models.PaymentPlan,
            schema=PaymentPlanSchema, label=_l("Payment plan"), label_plural=_l("Payment plans"),
            icon="bi-calendar2-check", title_attr="display_title",
            fields=[
                Field("contract_id", _l("Contract"), "reference", reference="contract",
                      help=_l("A plan belongs to a contract or to an order: fill in one of the two.")),
                Field("order_id", _l("Sales order"), "reference", reference="order"),
                Field("instalment", _l("Instalment"), "number", help=_l("Blank: the next number.")),
                Field("title", _l("Instalment name")),
                Field("due_on", _l("Due date"), "date", required=True),
                _amount_field("amount", _l("Amount")),
                customer, currency,
                Field("received_amount", _l("Received"), "hidden"),
                Field("status", _l("Payment status"), "hidden", list(PLAN_STATUS_CHOICES)),
            ],
            list_columns=["instalment", "title", "customer_id", "contract_id", "order_id", "due_on", "amount",
                          "received_amount", "currency", "status", "owner_id"],
            search_fields=["title"],
            sort_fields=["id", "due_on", "amount", "instalment", "updated_at"],
            filter_fields=["status", "customer_id", "contract_id", "order_id", "currency", "owner_id"],
            custom_fields=False, bulk_import=False, on_save=services.plan_on_save,
        ),
        EntitySpec(
            name="payment", module="payments", permission_prefix="payments.payment", model=models.Payment,
            schema=PaymentSchema, label=_l("Payment"), label_plural=_l("Payments"), icon="bi-cash-coin",
            title_attr="display_title",
            fields=[
                Field("plan_id", _l("Payment plan"), "reference", reference="payment_plan", required=True),
                customer, currency,
                _amount_field("amount", _l("Amount received")),
                Field("received_on", _l("Received on"), "date"),
                Field("method", _l("Method"), "select", list(ALL_METHOD_CHOICES)),
                Field("reference", _l("Reference (bank slip, bill number)")),
                Field("note", _l("Note")),
                Field("overpayment", _l("Over-payment"), "checkbox",
                      help=_l("Tick to record more than the plan's remaining amount (a reason is required).")),
                Field("overpayment_reason", _l("Reason for the over-payment")),
            ],
            list_columns=["received_on", "customer_id", "plan_id", "amount", "currency", "method", "reference",
                          "overpayment", "owner_id"],
            search_fields=["reference"],
            sort_fields=["id", "received_on", "amount", "updated_at"],
            filter_fields=["customer_id", "plan_id", "currency", "method", "overpayment", "owner_id"],
            custom_fields=True, bulk_import=False, on_save=services.payment_on_save,
        ),
        EntitySpec(
            name="prereceipt", module="payments", permission_prefix="payments.prereceipt", model=models.Prereceipt,
            schema=PrereceiptSchema, label=_l("Pre-receipt"), label_plural=_l("Pre-receipts"),
            icon="bi-piggy-bank", title_attr="display_title",
            fields=[
                Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
                Field("currency", _l("Currency"), "select", list(CURRENCY_CHOICES)),
                _amount_field("amount", _l("Amount received")),
                Field("received_on", _l("Received on"), "date"),
                Field("method", _l("Method"), "select", list(METHOD_CHOICES)),
                Field("reference", _l("Reference (bank slip, bill number)")),
                Field("note", _l("Note")),
                Field("applied_amount", _l("Applied"), "hidden"),
            ],
            list_columns=["received_on", "customer_id", "amount", "applied_amount", "currency", "method",
                          "reference", "owner_id"],
            search_fields=["reference"],
            sort_fields=["id", "received_on", "amount", "updated_at"],
            filter_fields=["customer_id", "currency", "method", "owner_id"],
            custom_fields=True, bulk_import=False, on_save=services.prereceipt_on_save,
        ),
    ]


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Payments"), "web.record_list", "payments.payment.view", order=46, icon="bi-cash-coin",
                 url_kwargs={"entity": "payment"}),
        MenuItem(_l("Payment plans"), "web.record_list", "payments.plan.view", order=47,
                 icon="bi-calendar2-check", url_kwargs={"entity": "payment_plan"}),
        MenuItem(_l("Pre-receipts"), "web.record_list", "payments.prereceipt.view", order=48,
                 icon="bi-piggy-bank", url_kwargs={"entity": "prereceipt"}),
        MenuItem(_l("Receivables and ageing"), "payments.ageing", REPORT, order=49, icon="bi-hourglass-split"),
    ]


@hookimpl
def record_panels(entity, record, user):
    return panels.panels_for(entity, record)


@hookimpl
def record_actions(entity, record, user):
    if entity == "payment_plan" and record.status != "paid":
        return [Action(key="payments.pay", label=_l("Record payment"), style="primary",
                       url=url_for("payments.pay", plan_id=record.id), permission="payments.payment.create")]
    if entity == "prereceipt" and record.balance > 0:
        return [Action(key="payments.apply", label=_l("Apply to a plan"), style="primary",
                       url=url_for("web.record_detail", entity="prereceipt", record_id=record.id) + "#apply",
                       permission="payments.payment.create")]
    if entity == "customer" and has("payments.prereceipt.create"):
        return [Action(key="payments.prereceipt", label=_l("New pre-receipt"),
                       url=url_for("web.record_new", entity="prereceipt", customer_id=record.id))]
    return []


@hookimpl
def orders_paid_amounts(session, order_ids):
    return services.paid_amounts_of_orders(session, order_ids)


@hookimpl
def record_delete_blockers(entity, record, session):
    return services.delete_blockers(session, entity, record)


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Merged duplicate customers: their plans, payments and pre-receipts follow the survivor.
    if entity == "customer":
        services.relink_customer(session, survivor_id, merged_ids)


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.payments import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)


@hookimpl
def deal_chain(entity, record, user, session):
    from plugins.payments import chain
    return chain.stages(entity, record, session)
