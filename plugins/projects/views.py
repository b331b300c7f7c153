"""The module's own pages: the projects overview, the stage change and link forms of a project, and the
stage configuration. Every view is declared with ``core.authz`` (a contract test checks it); rules live in
``services``; rows come through the request's scoped session."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import services as core_services
from core.authz import has, requires
from core.i18n import _, plain
from core.runtime import current, db
from core.scope import current_scope
from core.web.common import ID, detail_url, page_limit, parse_id, safe_next
from core.web.pickers import reference_picker
from plugins.projects import services
from plugins.projects.models import Project
from plugins.projects.schemas import IMPORTANCE_CHOICES, TYPE_CHOICES, LinkSchema, StageChangeSchema, StageSchema

bp = Blueprint("projects", __name__, url_prefix="/projects", template_folder="templates")
SORTS = ("-id", "number", "-number", "name", "kickoff_date", "-kickoff_date", "-updated_at")


def _spec():
    return current().entities["project"]


def _load(project_id, action="view"):
    try:
        return core_services.get(db(), _spec(), project_id, action=action)
    except core_services.NotFound:
        abort(404)
    except core_services.Forbidden:
        abort(403)


def _errors(err: ValidationError, rename=None) -> dict:
    messages = plain(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
    rename = rename or {}
    return {rename.get(name, name): value if isinstance(value, list) else [value] for name, value in messages.items()}


# ------------------------------------------------------------------ overview

@bp.route("/")
@requires("projects.project.view")
def overview():
    """Projects the user may see: number, name, importance, stage, type, kickoff date, owner."""
    session, spec = db(), _spec()
    filters = {name: request.args[name] for name in ("importance", "type") if request.args.get(name)}
    search = request.args.get("q", "").strip()[:200]
    stmt = core_services.list_query(session, spec, filters=filters, search=search or None)
    stage_id = parse_id(request.args.get("stage"))
    if stage_id is not None:
        stmt = stmt.where(Project.stage_id == stage_id)
    sort = request.args.get("sort", "-id")
    sort = sort if sort in SORTS else "-id"
    try:
        page = core_services.page(session, spec, stmt, sort=sort, cursor=request.args.get("cursor") or None,
                                  limit=page_limit(), count_cap=int(current().settings.get("COUNT_CAP", 1000)))
    except ValidationError:
        abort(400)
    ids = [project.id for project in page.rows]
    editable = _editable_ids(session, spec, ids)
    customers = services.first_customer_ids(session, ids) if has("core.followup.create") else {}
    next_url = url_for("projects.overview", **{**request.args.to_dict(), "cursor": page.next_cursor}) \
        if page.next_cursor else None
    return render_template(
        "projects/overview.html", page=page, rows=page.rows, editable=editable, customers=customers,
        stage_label=services.stage_label, stages=[(s.id, services.stage_label(s)) for s in services.request_stages()],
        importance=dict(IMPORTANCE_CHOICES), importance_choices=IMPORTANCE_CHOICES, types=dict(TYPE_CHOICES),
        type_choices=TYPE_CHOICES, args=request.args, next_url=next_url, sort=sort,
        can_create=has(spec.permission("create")), can_follow_up=has("core.followup.create"))


def _editable_ids(session, spec, ids) -> set[int]:
    """Which of these projects the user may edit: one query for the whole page."""
    scope = current_scope(session)
    if not ids or not scope.has(spec.permission("edit")):
        return set()
    stmt = select(Project.id).where(Project.id.in_(ids))
    criteria = scope.criteria(spec, "edit")
    if criteria is not None:
        stmt = stmt.where(criteria)
    return set(session.execute(stmt).scalars())


# ------------------------------------------------------------------ stage change

@bp.route(f"/<{ID}:project_id>/stage", methods=["GET", "POST"])
@requires("projects.project.edit")
def change_stage(project_id):
    project = _load(project_id, "edit")
    if request.method == "GET":
        return _stage_form(project, {"stage_id": str(project.stage_id or "")}, {})
    typed = {"stage_id": request.form.get("stage_id", ""), "note": request.form.get("note", "")}
    try:
        data = StageChangeSchema().load({k: v for k, v in typed.items() if v.strip()})
        services.change_stage(db(), _spec(), project.id, data["stage_id"], data.get("note"), current().entities,
                              version=parse_id(request.form.get("version")))
    except ValidationError as err:
        db().rollback()
        return _stage_form(project, typed, _errors(err), 422)
    except core_services.StaleVersion:
        db().rollback()
        return _stage_form(project, typed, {"_schema": [_(
            "Someone else changed this project meanwhile. Nothing was saved: check the stage and try again.")]},
            409)
    except core_services.NotFound:
        abort(404)
    flash(_("Stage changed."), "success")
    return redirect(detail_url(_spec(), project.id) + "#stage")


def _stage_form(project, values, errors, status=200):
    db().rollback()  # nothing half-done stays in the session while the page is drawn
    project = _load(project.id, "edit")
    stages = [(s.id, services.stage_label(s)) for s in services.request_stages() if s.active]
    return render_template("projects/stage_form.html", project=project, values=values, errors=errors,
                           stages=stages, current_label=services.stage_label(project.stage)), status


# ------------------------------------------------------------------ links to customers and contacts

LINKS = {
    "customers": ("customer_id", services.link_customer, services.unlink_customer),
    "contacts": ("contact_id", services.link_contact, services.unlink_contact),
}


@bp.route(f"/<{ID}:project_id>/customers", methods=["GET", "POST"])
@requires("projects.project.edit")
def link_customer(project_id):
    return _link(project_id, "customers")


@bp.route(f"/<{ID}:project_id>/contacts", methods=["GET", "POST"])
@requires("projects.project.edit")
def link_contact(project_id):
    return _link(project_id, "contacts")


@bp.route(f"/<{ID}:project_id>/customers/<{ID}:record_id>/remove", methods=["POST"])
@requires("projects.project.edit")
def unlink_customer(project_id, record_id):
    return _unlink(project_id, "customers", record_id)


@bp.route(f"/<{ID}:project_id>/contacts/<{ID}:record_id>/remove", methods=["POST"])
@requires("projects.project.edit")
def unlink_contact(project_id, record_id):
    return _unlink(project_id, "contacts", record_id)


def _link(project_id, kind):
    project = _load(project_id, "edit")
    field, link_fn, _unlink_fn = LINKS[kind]
    if request.method == "GET":
        return _link_form(project, kind, {}, {})
    typed = {name: request.form.get(name, "") for name in (field, "role", "note")}
    try:
        data = LinkSchema().load({"record_id": typed[field] or None, "role": typed["role"], "note": typed["note"]})
        link_fn(db(), _spec(), project.id, data["record_id"], data.get("role"), data.get("note"))
    except ValidationError as err:
        db().rollback()
        return _link_form(project, kind, typed, _errors(err, {"record_id": field}), 422)
    except IntegrityError:  # the same link added by two requests at once: the first one stands
        db().rollback()
    except core_services.NotFound:
        abort(404)
    flash(_("Customer linked.") if kind == "customers" else _("Contact linked."), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(_spec(), project.id) + "#links"))


def _unlink(project_id, kind, record_id):
    project = _load(project_id, "edit")
    try:
        LINKS[kind][2](db(), _spec(), project.id, record_id)
    except (ValidationError, core_services.NotFound):
        abort(404)
    flash(_("Link removed."), "success")
    return redirect(detail_url(_spec(), project.id) + "#links")


def _link_form(project, kind, values, errors, status=200):
    db().rollback()
    project = _load(project.id, "edit")
    field = LINKS[kind][0]
    context = {"project": project, "kind": kind, "field": field, "values": values, "errors": errors}
    if kind == "customers":
        context["picker"] = reference_picker("customer", values.get(field))
    else:
        context["contacts"] = services.contact_choices(db(), project.id)
    return render_template("projects/link_form.html", **context), status


# ------------------------------------------------------------------ stage configuration

@bp.route("/stages")
@requires("projects.stage.manage")
def stages():
    return _stages_page({}, None)


def _stages_page(errors, failed_id, values=None, status=200):
    rows = [(stage, services.stage_label(stage)) for stage in services.all_stages(db())]
    return render_template("projects/stages.html", rows=rows, errors=errors, failed_id=failed_id,
                           values=values or {}), status


def _stage_input():
    return {"name_zh": request.form.get("name_zh", ""), "name_en": request.form.get("name_en", ""),
            "active": request.form.get("active") in ("on", "1", "true")}


@bp.route("/stages/new", methods=["POST"])
@bp.route(f"/stages/<{ID}:stage_id>", methods=["POST"])
@requires("projects.stage.manage")
def save_stage(stage_id=None):
    typed = _stage_input()
    if stage_id is None:
        typed["active"] = True
    try:
        services.save_stage(db(), stage_id, StageSchema().load(typed))
    except ValidationError as err:
        db().rollback()
        return _stages_page(_errors(err), stage_id or "new", typed, 422)
    except core_services.NotFound:
        abort(404)
    flash(_("Stage saved."), "success")
    return redirect(url_for("projects.stages"))


@bp.route(f"/stages/<{ID}:stage_id>/move", methods=["POST"])
@requires("projects.stage.manage")
def move_stage(stage_id):
    direction = -1 if request.form.get("direction") == "up" else 1
    try:
        services.move_stage(db(), stage_id, direction)
    except core_services.NotFound:
        abort(404)
    return redirect(url_for("projects.stages"))
