"""The "quotes" module (报价单): what it adds to Guanxi, one hook each.

Entry point ``quotes = plugins.quotes.plugin``: permissions ``quotes.*``, tables ``quotes_*``, blueprint
``quotes``, Alembic version table ``alembic_version_quotes``. Downstream modules (contracts, orders) convert
accepted quotes through ``plugins.quotes.services``.
"""
from flask import url_for

from core import jobs, signals
from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import Action, MenuItem
from hooks import hookimpl
from plugins.quotes import chain, panels, services
from plugins.quotes.models import Quote, QuoteConversion, QuoteLine
from plugins.quotes.schemas import STATUS_CHOICES, QuoteSchema

REQUIRES = ()
ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
VIEW, CREATE, EDIT = "quotes.quote.view", "quotes.quote.create", "quotes.quote.edit"


def _grants(actions, level):
    return {f"quotes.quote.{action}": level for action in actions}


@hookimpl
def register_models():
    return [Quote, QuoteLine, QuoteConversion]


@hookimpl
def register_blueprints(app):
    from plugins.quotes.views import bp, generic_form_to_quote_form
    app.register_blueprint(bp)
    # The quote form carries the lines editor: core's generic create/edit pages of "quote" lead to it.
    app.before_request(generic_form_to_quote_form)


@hookimpl
def register_permissions():
    return [Permission(f"quotes.quote.{action}", _l("Quotes: %(action)s", action=label), scoped=True)
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
        name="quote", module="quotes", model=Quote, schema=QuoteSchema,
        label=_l("Quote"), label_plural=_l("Quotes"), icon="bi-receipt", title_attr="display_number",
        fields=[
            Field("number", _l("Quote number"), help=_l("Given when the quote is saved.")),
            Field("revision", _l("Revision"), "number"),
            Field("title", _l("Title"), required=True),
            Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
            Field("contact_id", _l("Contact"), "reference", reference="contact",
                  help=_l("A contact person of the customer.")),
            Field("status", _l("Status"), "select", list(STATUS_CHOICES)),
            Field("currency", _l("Currency"), "select", panels.CurrencyChoices(),
                  help=_l("Blank: the default currency.")),
            Field("valid_until", _l("Valid until"), "date", help=_l("Blank: 30 days from today.")),
            Field("subtotal", _l("Subtotal"), "number"),
            Field("tax_total", _l("Tax"), "number"),
            Field("total", _l("Total"), "number"),
            Field("owner_id", _l("Owner"), "owner"),
            Field("terms", _l("Terms"), "textarea"),
            Field("notes", _l("Notes"), "textarea"),
        ],
        list_columns=["number", "revision", "title", "customer_id", "status", "total", "currency", "valid_until",
                      "owner_id"],
        search_fields=["number", "title"],
        sort_fields=["id", "number", "valid_until", "total", "updated_at"],
        filter_fields=["status", "customer_id", "currency", "owner_id"],
        # lines cannot come from a spreadsheet row; quotes are made in the form or through the API
        custom_fields=True, importable=False, bulk_import=False, follow_ups=True,
        on_save=services.on_save,
    )]


@hookimpl
def menu_items(user):
    return [MenuItem(_l("Quotes"), "web.record_list", VIEW, order=27, icon="bi-receipt",
                     url_kwargs={"entity": "quote"})]


@hookimpl
def record_panels(entity, record, user):
    if not has(VIEW):
        return []
    if entity == "quote":
        return [panels.lines_panel(db(), record), panels.history_panel(db(), record)]
    if entity in ("customer", "opportunity", "project"):
        return [panels.related_quotes(db(), entity, record)]
    return []


@hookimpl
def record_actions(entity, record, user):
    if entity == "quote":
        return panels.quote_actions(record)
    if entity in ("customer", "opportunity", "project") and has(CREATE):
        return [Action(key="quotes.new", label=_l("New quote"), permission=CREATE,
                       url=url_for("quotes.new", **panels.new_quote_args(entity, record)))]
    return []


@hookimpl
def deal_chain(entity, record, user, session):
    return chain.stages(entity, record, session)


@hookimpl
def scheduled_jobs():
    # every night after midnight (instance time zone): sent quotes past their validity expire
    return [jobs.ScheduledJob("quotes.expire", services.expire_quotes, crontab={"minute": "5", "hour": "0"})]


@hookimpl
def app_configured(app):
    panels.link_fields(app)
    signals.owner_transferred.connect(services.lines_follow_owner)


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Merged duplicate customers (contacts): their quotes follow the survivor.
    from sqlalchemy import update
    column = {"customer": Quote.customer_id, "contact": Quote.contact_id}.get(entity)
    if column is not None:
        session.execute(update(Quote).where(column.in_(merged_ids)).values({column.key: survivor_id})
                        .execution_options(include_deleted=True, synchronize_session=False))


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.quotes import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
