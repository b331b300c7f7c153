"""The "projects" module (项目型销售): what it adds to Guanxi, one hook each.

Entry point ``projects = plugins.projects.plugin``: permissions start with ``projects.``, tables with
``projects_``, the blueprint is ``projects`` and the Alembic version table ``alembic_version_projects``.
"""
from core.authz import has
from core.entities import EntitySpec, Field
from core.i18n import _l
from core.permissions import Permission, StockRole
from core.runtime import db
from core.ui import MenuItem
from hooks import hookimpl
from plugins.projects import models, panels, services
from plugins.projects.schemas import IMPORTANCE_CHOICES, TYPE_CHOICES, ProjectSchema

ACTIONS = {"view": _l("view"), "create": _l("create"), "edit": _l("edit"), "delete": _l("delete"),
           "export": _l("export")}
STAGE_MANAGE = "projects.stage.manage"


def _grants(actions, level):
    return {f"projects.project.{action}": level for action in actions}


@hookimpl
def register_models():
    return [models.Stage, models.Project, models.StageHistory, models.ProjectCustomer, models.ProjectContact,
            models.NumberCounter]


@hookimpl
def register_blueprints(app):
    from plugins.projects.views import bp
    app.register_blueprint(bp)


@hookimpl
def register_permissions():
    perms = [Permission(f"projects.project.{action}", _l("Projects: %(action)s", action=label), scoped=True)
             for action, label in ACTIONS.items()]
    perms.append(Permission(STAGE_MANAGE, _l("Projects: configure the stages")))
    return perms


@hookimpl
def register_roles():
    everything = {**_grants(ACTIONS, "all"), STAGE_MANAGE: "all"}
    return [
        StockRole("salesperson", _grants(("view", "create", "edit", "delete"), "own")),
        StockRole("sales_manager", _grants(ACTIONS, "team")),
        StockRole("boss", everything),
        StockRole("admin", everything),
    ]


@hookimpl
def entity_specs():
    return [EntitySpec(
        name="project", module="projects", model=models.Project, schema=ProjectSchema,
        label=_l("Project"), label_plural=_l("Projects"), icon="bi-kanban", title_attr="name",
        fields=[
            Field("number", _l("Project number"), help=_l("Leave blank to number it automatically.")),
            Field("name", _l("Project name"), required=True),
            Field("importance", _l("Importance"), "select", list(IMPORTANCE_CHOICES)),
            Field("type", _l("Project type"), "select", list(TYPE_CHOICES)),
            Field("stage_id", _l("Stage"), "select", services.StageChoices()),
            Field("kickoff_date", _l("Kickoff date"), "date"),
            Field("owner_id", _l("Owner"), "owner"),
            Field("description", _l("Description"), "textarea"),
        ],
        list_columns=["number", "name", "importance", "stage_id", "type", "kickoff_date", "owner_id"],
        search_fields=["number", "name"],
        sort_fields=["id", "number", "name", "kickoff_date", "updated_at"],
        filter_fields=["importance", "type", "owner_id"],
        # imported one by one through on_save: each project gets its number, stage and first timeline row
        custom_fields=True, bulk_import=False, follow_ups=True,
        on_save=services.on_save,
    )]


@hookimpl
def menu_items(user):
    return [
        MenuItem(_l("Projects"), "projects.overview", "projects.project.view", order=25, icon="bi-kanban"),
        MenuItem(_l("Project stages"), "projects.stages", STAGE_MANAGE, section="admin", order=60),
    ]


@hookimpl
def record_panels(entity, record, user):
    if entity == "customer" and has("projects.project.view"):
        return [panels.customer_projects(db(), record)]
    if entity == "project":
        return [panels.stage_panel(db(), record), panels.links_panel(db(), record)]
    return []


@hookimpl
def merge_records(entity, survivor_id, merged_ids, session):
    # Merged duplicates: their project links follow the survivor, without doubling a link.
    if entity == "customer":
        services.relink(session, models.ProjectCustomer, "customer_id", survivor_id, merged_ids)
    elif entity == "contact":
        services.relink(session, models.ProjectContact, "contact_id", survivor_id, merged_ids)




@hookimpl
def demo_data(session, users, customers, seed, today):
    from plugins.projects import demo  # only `guanxi demo` needs it
    demo.generate(session, users, customers, seed, today)
