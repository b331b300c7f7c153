"""The "leads" module (潜在客户): capture, qualify, assign and convert leads; one hook each.

Found through the ``guanxi.plugins`` entry point ``leads = plugins.leads.plugin``: permissions start with
``leads.``, tables with ``leads_``, the blueprint is ``leads`` (``/leads``) and the Alembic version table is
``alembic_version_leads``. The entity spec gives leads the generic pages (``/r/lead/``), the REST API,
import/export, search, custom fields, audit and the leak-matrix tests.
"""
from flask import url_for

from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import Action, MenuItem, Panel, Widget
from hooks import hookimpl
from plugins.leads import services
from plugins.leads.models import Lead, RoundRobinPointer, WebForm, WebFormAttempt
from plugins.leads.schemas import RATING_CHOICES, SOURCE_CHOICES, STATUS_CHOICES, LeadSchema

ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export"), "assign": _l("assign"), "convert": _l("convert")}
MANAGE_FORMS = "leads.web_form.manage"


def _grants(actions, level):
    return {f"leads.lead.{action}": level for action in actions}


@hookimpl
def register_models():
    return [Lead, WebForm, RoundRobinPointer, WebFormAttempt]


@hookimpl
def register_blueprints(app):
    from plugins.leads.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    # scoped=True: granted with a data scope (own / team / all), like the core sales entities
    return [Permission(f"leads.lead.{action}", _l("Leads: %(action)s", action=label), scoped=True)
            for action, label in ACTIONS.items()] + [
        Permission(MANAGE_FORMS, _l("Leads: manage web-to-lead forms"))]


@hookimpl
def register_roles():
    everything = {**_grants(ACTIONS, "all"), MANAGE_FORMS: "all"}
    return [
        StockRole("salesperson", _grants(("view", "create", "edit", "delete", "assign", "convert"), "own")),
        StockRole("sales_manager", _grants(ACTIONS, "team")),
        StockRole("boss", everything),
        StockRole("admin", everything),
    ]


@hookimpl
def entity_specs():
    return [EntitySpec(
        name="lead", module="leads", model=Lead, schema=LeadSchema,
        label=_l("Lead"), label_plural=_l("Leads"), icon="bi-person-plus", title_attr="name",
        fields=[
            Field("name", _l("Full name"), required=True), Field("company", _l("Company")),
            Field("title", _l("Job title")),
            Field("phone", _l("Phone"), "tel"), Field("mobile", _l("Mobile"), "tel"),
            Field("email", _l("E-mail"), "email"), Field("wechat", _l("WeChat ID")),
            Field("address", _l("Address")),
            Field("source", _l("Source"), "select", list(SOURCE_CHOICES)),
            Field("status", _l("Status"), "select", list(STATUS_CHOICES)),
            Field("rating", _l("Rating"), "select", list(RATING_CHOICES)),
            Field("qualification_notes", _l("Qualification notes"), "textarea"),
            Field("owner_id", _l("Owner"), "owner"),
            Field("notes", _l("Notes"), "textarea"),
        ],
        list_columns=["name", "company", "status", "source", "rating", "mobile", "owner_id", "created_at"],
        search_fields=["name", "company", "phone", "mobile", "email"],
        sort_fields=["id", "name", "company", "created_at", "updated_at"],
        filter_fields=["status", "source", "rating", "owner_id"],
        importable=True, custom_fields=True, follow_ups=True,
        on_save=services.refuse_edit_of_converted,
    )]


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Leads"), "web.record_list", "leads.lead.view", order=5, icon="bi-person-plus",
                 url_kwargs={"entity": "lead"}),
        MenuItem(_l("Web-to-lead forms"), "leads.web_forms", MANAGE_FORMS, section="admin", order=60),
    ]


@hookimpl
def record_actions(entity, record, user):
    if entity != "lead" or record.converted_at is not None:
        return []
    return [
        Action(key="leads.convert", label=_l("Convert"), permission="leads.lead.convert", style="primary",
               url=url_for("leads.convert", lead_id=record.id)),
        Action(key="leads.assign", label=_l("Assign"), permission="leads.lead.assign",
               url=url_for("leads.assign", lead_id=record.id)),
    ]


@hookimpl
def list_actions(entity, user):
    if entity != "lead":
        return []
    return [
        Action(key="leads.bulk_assign", label=_l("Assign selected to the chosen owner"), method="POST",
               permission="leads.lead.assign", url=url_for("leads.bulk_assign")),
        Action(key="leads.bulk_round_robin", label=_l("Assign selected round-robin in my team"), method="POST",
               permission="leads.lead.assign", url=url_for("leads.bulk_round_robin")),
    ]


@hookimpl
def record_panels(entity, record, user):
    if entity == "lead" and record.converted_at is not None:
        return [Panel(key="leads.converted", title=_l("Converted"), template="leads/converted_panel.html",
                      context={"lead": record}, order=5)]
    if entity in ("customer", "contact") and has("leads.lead.view"):
        lead = services.converted_from(db(), entity, record.id)  # scoped: only a lead the user may see
        if lead is not None:
            return [Panel(key="leads.from_lead", title=_l("From lead"), template="leads/from_lead_panel.html",
                          context={"lead": lead, "sources": dict(SOURCE_CHOICES)}, order=15)]
    return []


@hookimpl
def dashboard_widgets(user):
    if not has("leads.lead.view"):
        return []
    labels = dict(SOURCE_CHOICES)

    def load():
        rows = services.new_this_week_by_source(db())
        return {"rows": [(labels.get(source, source), count) for source, count in rows if count],
                "total": sum(count for _source, count in rows)}
    return [Widget(key="leads.new_this_week", title=_l("New leads this week"), template="leads/widget.html",
                   load=load, order=40, width=6)]


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Duplicate customers/contacts merged into one: leads converted into them point at the survivor.
    if entity in ("customer", "contact"):
        services.relink_converted(session, entity, survivor_id, merged_ids)


@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.leads import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
