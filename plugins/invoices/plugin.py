"""The "invoices" module (发票): invoice requests (开票申请) and invoice records (开票记录), one hook each.

Entry point ``invoices = plugins.invoices.plugin``: permissions ``invoices.*``, tables ``invoices_*``, blueprint
``invoices``, Alembic version table ``alembic_version_invoices``. Requests and invoices belong to a contract, an
order or a payment, so the module sits at the end of the quote-to-cash chain.
"""
from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import MenuItem
from hooks import hookimpl
from plugins.invoices import actions, chain, panels, services
from plugins.invoices.models import Invoice, InvoiceRequest
from plugins.invoices.schemas import (
    INVOICE_STATUS_CHOICES, REQUEST_STATUS_CHOICES, TYPE_CHOICES, InvoiceRequestSchema, InvoiceSchema,
)

REQUIRES = ("payments",)
ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
APPROVE = "invoices.request.approve"


def _grants(entity, actions_, level):
    return {f"invoices.{entity}.{action}": level for action in actions_}


@hookimpl
def register_models():
    return [InvoiceRequest, Invoice]


@hookimpl
def register_blueprints(app):
    from plugins.invoices.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    perms = [Permission(f"invoices.request.{action}", _l("Invoice requests: %(action)s", action=label), scoped=True)
             for action, label in ACTIONS.items()]
    perms += [Permission(f"invoices.invoice.{action}", _l("Invoices: %(action)s", action=label), scoped=True)
              for action, label in ACTIONS.items()]
    perms.append(Permission(APPROVE, _l("Invoice requests: approve or reject"), scoped=True))
    return perms


@hookimpl
def register_roles():
    everything = {**_grants("request", ACTIONS, "all"), **_grants("invoice", ACTIONS, "all"), APPROVE: "all"}
    return [
        # salespeople ask for invoices and see those of their own deals; managers approve and record them
        StockRole("salesperson", {**_grants("request", ("view", "create", "edit", "delete"), "own"),
                                  **_grants("invoice", ("view",), "own")}),
        StockRole("sales_manager", {**_grants("request", ACTIONS, "team"), **_grants("invoice", ACTIONS, "team"),
                                    APPROVE: "team"}),
        StockRole("boss", everything),
        StockRole("admin", everything),
    ]


def _details_fields():
    return [
        Field("contract_id", _l("Contract"), "reference", reference="contract",
              help=_l("Invoice one contract, one order or one payment.")),
        Field("order_id", _l("Order"), "reference", reference="order"),
        Field("payment_id", _l("Payment"), "reference", reference="payment"),
        Field("customer_id", _l("Customer"), "reference", reference="customer",
              help=_l("Blank: the customer of the contract, order or payment.")),
        Field("currency", _l("Currency"), help=_l("Blank: the currency of the contract, order or payment.")),
        Field("type", _l("Invoice type"), "select", list(TYPE_CHOICES)),
        Field("title", _l("Invoice title (抬头)"),
              help=_l("Blank: the title of the customer's last request, else the customer's name.")),
        Field("tax_number", _l("Tax number"), help=_l("Unified social credit code, 18 characters.")),
        Field("bank", _l("Bank")),
        Field("bank_account", _l("Bank account")),
        Field("address_phone", _l("Address and phone")),
    ]


@hookimpl
def entity_specs():
    request = EntitySpec(
        name="invoice_request", module="invoices", model=InvoiceRequest, schema=InvoiceRequestSchema,
        permission_prefix="invoices.request", label=_l("Invoice request"), label_plural=_l("Invoice requests"),
        icon="bi-receipt", title_attr="label",
        fields=_details_fields() + [
            Field("amount", _l("Amount"), "number", required=True),
            Field("note", _l("Note"), "textarea"),
            Field("status", _l("Status"), "hidden", list(REQUEST_STATUS_CHOICES)),
        ],
        list_columns=["id", "title", "customer_id", "amount", "currency", "type", "status", "owner_id"],
        search_fields=["title", "tax_number"],
        sort_fields=["id", "amount", "updated_at"],
        filter_fields=["status", "type", "customer_id", "currency", "contract_id", "order_id", "payment_id",
                       "owner_id"],
        custom_fields=True, importable=False, on_save=services.on_save_request,
    )
    invoice = EntitySpec(
        name="invoice", module="invoices", model=Invoice, schema=InvoiceSchema, permission_prefix="invoices.invoice",
        label=_l("Invoice"), label_plural=_l("Invoices"), icon="bi-receipt-cutoff", title_attr="number",
        fields=[
            Field("number", _l("Invoice number"), required=True, help=_l("As printed by the tax system.")),
            Field("issued_on", _l("Issue date"), "date", help=_l("Blank: today.")),
            Field("request_id", _l("Invoice request"), "reference", reference="invoice_request"),
            *_details_fields(),
            Field("amount", _l("Amount (tax included)"), "number", required=True),
            Field("tax_rate", _l("Tax rate (%)"), "number"),
            Field("tax_amount", _l("Tax amount"), "number", help=_l("Blank: computed from the amount and the rate.")),
            Field("over_invoice", _l("Over-invoice"), "checkbox",
                  help=_l("Tick to invoice more than is left on the contract, order or payment.")),
            Field("over_invoice_reason", _l("Reason for over-invoicing"), "textarea"),
            Field("note", _l("Note"), "textarea"),
            Field("status", _l("Status"), "hidden", list(INVOICE_STATUS_CHOICES)),
        ],
        list_columns=["number", "issued_on", "title", "customer_id", "amount", "currency", "type", "status",
                      "owner_id"],
        search_fields=["number", "title"],
        sort_fields=["id", "issued_on", "number", "amount", "updated_at"],
        filter_fields=["status", "type", "customer_id", "currency", "contract_id", "order_id", "payment_id",
                       "over_invoice", "owner_id"],
        custom_fields=True, importable=False, on_save=services.on_save_invoice,
    )
    return [request, invoice]


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Invoice requests"), "web.record_list", "invoices.request.view", order=47, icon="bi-receipt",
                 url_kwargs={"entity": "invoice_request"}),
        MenuItem(_l("Invoices"), "web.record_list", "invoices.invoice.view", order=48, icon="bi-receipt-cutoff",
                 url_kwargs={"entity": "invoice"}),
    ]


@hookimpl
def record_panels(entity, record, user):
    if entity in panels.ANCHORS and (has("invoices.request.view") or has("invoices.invoice.view")):
        return [panels.invoices_panel(db(), entity, record)]
    if entity == "invoice_request":
        return [panels.request_status_panel(db(), record)]
    if entity == "invoice":
        return [panels.invoice_status_panel(db(), record)]
    return []


@hookimpl
def record_actions(entity, record, user):
    return actions.for_record(db(), entity, record)


@hookimpl
def deal_chain(entity, record, user, session):
    return chain.stages(session, entity, record)


@hookimpl
def record_delete_blockers(entity, record, session):
    return services.delete_blockers(session, entity, record)


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.invoices import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
