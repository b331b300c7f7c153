"""Core registers its own models, permissions, stock roles and entities through the same hooks as plugins."""
from sqlalchemy import select

from core import models
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.schemas import (
    CUSTOMER_KINDS, CUSTOMER_LEVELS, CUSTOMER_SOURCES, CUSTOMER_STATUSES, FOLLOW_UP_KINDS, ContactSchema,
    CustomerSchema, FollowUpSchema, ProductSchema,
)
from core.ui import MenuItem
from hooks import hookimpl

ENTITY_ACTIONS = ("view", "create", "edit", "delete", "export")


@hookimpl
def register_models():
    return [models.Department, models.User, models.Role, models.RoleGrant, models.UserSession,
            models.LoginThrottle, models.ApiToken, models.ModuleState, models.Setting, models.Tag,
            models.Customer, models.Contact, models.Product, models.FollowUp, models.Attachment,
            models.AuditEntry, models.NumberSequence, models.MailMessage, models.MailAttachment,
            *_custom_field_models(), *_import_export_models(), *_saved_view_models(),
            *_search_models()]


def _custom_field_models():
    from core.customfields.models import CustomFieldDef
    return [CustomFieldDef]


def _search_models():
    from core.search.models import SearchToken
    return [SearchToken]


def _saved_view_models():
    from core.savedviews.models import SavedView
    return [SavedView]


def _import_export_models():
    from core.exports.models import ExportJob
    from core.imports.models import ImportChange, ImportJob, ImportMapping
    return [ImportJob, ImportMapping, ImportChange, ExportJob]


@hookimpl
def register_permissions():
    perms = []
    labels = {"customer": _l("Customers"), "contact": _l("Contacts"), "followup": _l("Follow-ups"),
              "product": _l("Products")}
    for entity, label in labels.items():
        for action in ENTITY_ACTIONS:
            perms.append(Permission(f"core.{entity}.{action}", _l("%(entity)s: %(action)s", entity=label,
                                                                      action=ACTION_LABELS[action]),
                                    scoped=entity != "product"))
    perms += [
        Permission("core.product.cost", _l("Products: see and edit purchase cost (procurement)")),
        Permission("core.user.view", _l("Users and departments: view directory")),
        Permission("core.admin.users", _l("Administration: users")),
        Permission("core.admin.roles", _l("Administration: roles and permissions")),
        Permission("core.admin.departments", _l("Administration: departments")),
        Permission("core.admin.modules", _l("Administration: modules and licence")),
        Permission("core.admin.customfields", _l("Administration: custom fields (module builder)")),
        Permission("core.admin.imports", _l("Administration: open and undo every user's imports")),
        Permission("core.admin.views", _l("Administration: share saved list views with roles and departments")),
    ]
    return perms


ACTION_LABELS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
                 "export": _l("export")}


def _grants(entities, actions, level):
    return {f"core.{e}.{a}": level for e in entities for a in actions}


@hookimpl
def register_roles():
    sales = ("customer", "contact", "followup")
    admin_perms = {p: "all" for p in ("core.admin.users", "core.admin.roles", "core.admin.departments",
                                      "core.admin.modules", "core.user.view", "core.admin.imports",
                                      "core.admin.views", "core.admin.customfields")}
    everything = {**_grants(sales + ("product",), ENTITY_ACTIONS, "all"), "core.product.cost": "all",
                  "core.user.view": "all"}
    return [
        StockRole("admin", {**everything, **admin_perms}),
        StockRole("boss", everything),
        StockRole("sales_manager", {**_grants(sales, ENTITY_ACTIONS, "team"), "core.product.view": "all",
                                    "core.user.view": "all"}),
        StockRole("salesperson", {**_grants(sales, ("view", "create", "edit", "delete"), "own"),
                                  "core.product.view": "all", "core.user.view": "all"}),
        StockRole("service", {"core.customer.view": "all", "core.contact.view": "all",
                              **_grants(("followup",), ("view", "create", "edit"), "own"),
                              "core.product.view": "all", "core.user.view": "all"}),
        StockRole("procurement", {**_grants(("product",), ENTITY_ACTIONS, "all"), "core.product.cost": "all",
                                  "core.user.view": "all"}),
    ]


STOCK_ROLE_NAMES = {
    "admin": _l("Administrator"), "boss": _l("Boss"), "sales_manager": _l("Sales manager"),
    "salesperson": _l("Salesperson"), "service": _l("Service agent"), "procurement": _l("Procurement"),
}


def _customer_on_save(session, record, data):
    tags = data.get("tags")
    if tags is None:
        return
    wanted = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    existing = {t.name: t for t in session.execute(
        select(models.Tag).where(models.Tag.name.in_(wanted))).scalars()} if wanted else {}
    record.tags = [existing.get(name) or models.Tag(name=name) for name in wanted]


def _contact_on_save(session, record, data):
    if record.is_primary and record.customer_id:
        others = session.execute(select(models.Contact).where(
            models.Contact.customer_id == record.customer_id, models.Contact.is_primary.is_(True))).scalars()
        for other in others:
            if other is not record:
                other.is_primary = False


def _followup_on_save(session, record, data):
    """A follow-up attached to a lead, opportunity, project... must name an entity that takes follow-ups
    and a record of it the user can SEE (loaded through his scoped session): never a link to a record out of
    his scope. Checked when the link is set or changed; an unchanged link is kept on edit."""
    from marshmallow import ValidationError
    from sqlalchemy import inspect as sa_inspect

    from core.runtime import current
    from core.scope import get_scoped

    state = sa_inspect(record)
    changed = record.id is None or any(state.attrs[name].history.has_changes()
                                       for name in ("related_entity", "related_id"))
    if not changed or (record.related_entity is None and record.related_id is None):
        return
    target = current().entities.get(record.related_entity or "")
    if target is None or not target.follow_ups:
        raise ValidationError({"related_entity": [str(_l("Follow-ups cannot be attached to this kind of record."))]})
    if record.related_id is None:
        raise ValidationError({"related_id": [str(_l("This field is required."))]})
    with session.no_autoflush:
        visible = get_scoped(session, target.model, record.related_id)
    if visible is None:
        raise ValidationError({"related_id": [str(_l("Not found."))]})


def _choices(choices):
    return list(choices)


@hookimpl
def entity_specs():
    return [
        EntitySpec(
            name="customer", model=models.Customer, schema=CustomerSchema,
            label=_l("Customer"), label_plural=_l("Customers"), icon="bi-building",
            fields=[
                Field("name", _l("Name"), required=True), Field("code", _l("Code")),
                Field("kind", _l("Type"), "select", _choices(CUSTOMER_KINDS)),
                Field("status", _l("Status"), "select", _choices(CUSTOMER_STATUSES)),
                Field("level", _l("Level"), "select", _choices(CUSTOMER_LEVELS)),
                Field("industry", _l("Industry")),
                Field("source", _l("Source"), "select", _choices(CUSTOMER_SOURCES)),
                Field("phone", _l("Phone"), "tel"), Field("email", _l("E-mail"), "email"),
                Field("website", _l("Website"), "url"),
                Field("province", _l("Province")), Field("city", _l("City")), Field("address", _l("Address")),
                Field("credit_rating", _l("Credit rating")),
                Field("tags", _l("Tags (impressions)"), "tags"),
                Field("owner_id", _l("Owner"), "owner"),
                Field("notes", _l("Notes"), "textarea"),
            ],
            list_columns=["name", "status", "level", "phone", "city", "owner_id", "updated_at"],
            search_fields=["name", "phone", "email", "code"],
            sort_fields=["id", "name", "updated_at", "created_at"],
            filter_fields=["status", "level", "kind", "source", "owner_id", "industry", "city"],
            on_save=_customer_on_save,
        ),
        EntitySpec(
            name="contact", model=models.Contact, schema=ContactSchema,
            label=_l("Contact"), label_plural=_l("Contacts"), icon="bi-person-lines-fill",
            fields=[
                Field("customer_id", _l("Customer"), "reference", reference="customer", required=True),
                Field("name", _l("Name"), required=True), Field("title", _l("Job title")),
                Field("is_primary", _l("Primary contact"), "checkbox"),
                Field("mobile", _l("Mobile"), "tel"), Field("phone", _l("Phone"), "tel"),
                Field("email", _l("E-mail"), "email"), Field("wechat", _l("WeChat ID")),
                Field("birthday", _l("Birthday"), "date"),
                Field("owner_id", _l("Owner"), "owner"),
                Field("notes", _l("Notes"), "textarea"),
            ],
            list_columns=["name", "customer_id", "title", "mobile", "email", "owner_id"],
            search_fields=["name", "mobile", "phone", "email"],
            sort_fields=["id", "name", "updated_at"],
            filter_fields=["customer_id", "owner_id", "is_primary"],
            on_save=_contact_on_save,
        ),
        EntitySpec(
            name="followup", model=models.FollowUp, schema=FollowUpSchema,
            label=_l("Follow-up"), label_plural=_l("Follow-ups"), icon="bi-chat-left-text",
            title_attr="content",
            fields=[
                Field("customer_id", _l("Customer"), "reference", reference="customer"),
                Field("contact_id", _l("Contact"), "reference", reference="contact"),
                Field("kind", _l("Type"), "select", _choices(FOLLOW_UP_KINDS)),
                Field("happened_at", _l("Time"), "datetime"),
                Field("content", _l("Content"), "textarea", required=True),
                Field("next_follow_up", _l("Next follow-up"), "date"),
                Field("owner_id", _l("Owner"), "owner"),
                # the lead, opportunity, project... it concerns (prefilled from the record's page)
                Field("related_entity", _l("Concerns"), "hidden"),
                Field("related_id", _l("Concerns"), "hidden"),
            ],
            list_columns=["happened_at", "kind", "customer_id", "content", "next_follow_up", "owner_id"],
            search_fields=["content"],
            sort_fields=["id", "happened_at", "next_follow_up"],
            filter_fields=["customer_id", "kind", "owner_id"],
            on_save=_followup_on_save,
        ),
        EntitySpec(
            name="product", model=models.Product, schema=ProductSchema,
            label=_l("Product"), label_plural=_l("Products"), icon="bi-box-seam",
            fields=[
                Field("code", _l("Code"), required=True), Field("name", _l("Name"), required=True),
                Field("category", _l("Category")), Field("unit", _l("Unit")),
                Field("price", _l("Price"), "number"), Field("currency", _l("Currency")),
                Field("cost", _l("Purchase cost"), "number"),
                Field("active", _l("Active"), "checkbox"),
            ],
            list_columns=["code", "name", "category", "unit", "price", "cost", "active"],
            search_fields=["name", "code", "category"],
            sort_fields=["id", "code", "name", "price"],
            filter_fields=["category", "active"],
            restricted_fields={"cost": "core.product.cost"},
        ),
    ]


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Dashboard"), "web.dashboard", order=0, icon="bi-speedometer2"),
        MenuItem(_l("Customers"), "web.record_list", "core.customer.view", order=10, icon="bi-building",
                 url_kwargs={"entity": "customer"}),
        MenuItem(_l("Contacts"), "web.record_list", "core.contact.view", order=20, icon="bi-person-lines-fill",
                 url_kwargs={"entity": "contact"}),
        MenuItem(_l("Follow-ups"), "web.record_list", "core.followup.view", order=30,
                 icon="bi-chat-left-text", url_kwargs={"entity": "followup"}),
        MenuItem(_l("Products"), "web.record_list", "core.product.view", order=40, icon="bi-box-seam",
                 url_kwargs={"entity": "product"}),
        MenuItem(_l("Users"), "admin.users", "core.admin.users", section="admin", order=10),
        MenuItem(_l("Departments"), "admin.departments", "core.admin.departments", section="admin", order=20),
        MenuItem(_l("Roles"), "admin.roles", "core.admin.roles", section="admin", order=30),
        MenuItem(_l("Modules and licence"), "admin.modules", "core.admin.modules", section="admin", order=40),
        MenuItem(_l("Company settings"), "admin.company", "core.admin.modules", section="admin", order=45),
        MenuItem(_l("Custom fields"), "admin.customfields", "core.admin.customfields", section="admin", order=50),
        MenuItem(_l("My profile"), "web.profile", section="user", order=10, icon="bi-person"),
        MenuItem(_l("Recycle bin"), "web.recycle_bin", section="user", order=20, icon="bi-trash"),
    ]


@hookimpl
def dashboard_widgets(user):
    from core.web.widgets import core_widgets  # the web shell builds core's tiles
    return core_widgets(user)


@hookimpl
def search_providers():
    from core.search import core_providers
    return core_providers()


@hookimpl(specname="app_configured")
def start_search_indexing(app):
    # Index every write of a searchable entity (core's and plugins' providers) from now on.
    from core.search import install
    install(app.extensions["guanxi"])


@hookimpl
def list_actions(entity, user):
    from core.dedupe.ui import merge_action  # "Merge selected" on customer and contact lists
    return merge_action(entity)


@hookimpl
def scheduled_jobs():
    from core.exports.jobs import scheduled  # old export files and import uploads leave the disk daily
    from core.mail import scheduled as mail_jobs  # mail left "queued" after a temporary failure is retried
    return scheduled() + mail_jobs()
