"""Roles: the list, custom roles, and the grid of every registered permission with its level."""
from __future__ import annotations

from itertools import groupby

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError

from core import orgservice
from core.admin import bp
from core.admin.helpers import field_errors, flash_saved, service_guard
from core.authz import requires
from core.i18n import _
from core.permissions import LEVELS
from core.runtime import current, db
from core.scope import current_scope

GRANT_PREFIX = "grant__"


def _render_list(errors=None, values=None, status=200):
    session = db()
    with service_guard():
        roles = orgservice.list_roles(session)
    return render_template("admin/roles.html", roles=roles, counts=orgservice.role_user_counts(session),
                           errors=errors or {}, values=values or {}), status


@bp.route("/roles", methods=["GET", "POST"])
@requires(orgservice.ROLES)
def roles():
    if request.method == "GET":
        return _render_list()
    values = {"name": request.form.get("name", ""), "description": request.form.get("description", "")}
    session = db()
    try:
        with service_guard():
            role = orgservice.create_role(session, values["name"], values["description"])
    except ValidationError as exc:
        session.rollback()
        return _render_list(field_errors(exc), values, 422)
    flash_saved(_("Role created: now choose its permissions."))
    return redirect(url_for("admin.role_edit", role_id=role.id))


def permission_groups():
    """Registered permissions grouped by module, each with the levels it can be granted at."""
    perms = sorted(current().permissions, key=lambda p: (p.module != "core", p.module, p.name))
    return [(module, [(p, LEVELS if p.scoped else ("none", "all")) for p in group])
            for module, group in groupby(perms, key=lambda p: p.module)]


def _render_role(role, grants, values, errors=None, status=200):
    return render_template("admin/role_edit.html", role=role, groups=permission_groups(), grants=grants,
                           values=values, errors=errors or {}, scope=current_scope(db()),
                           level_labels=level_labels()), status


def level_labels():
    return {"none": _("None"), "own": _("Own"), "team": _("Team (department subtree)"), "all": _("All")}


@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@requires(orgservice.ROLES)
def role_edit(role_id):
    session = db()
    with service_guard():
        role = orgservice.get_role(session, role_id)
    if request.method == "GET":
        return _render_role(role, orgservice.role_grants(role),
                            {"name": role.name, "description": role.description})
    grants = {key[len(GRANT_PREFIX):]: value for key, value in request.form.items()
              if key.startswith(GRANT_PREFIX)}
    values = {"name": request.form.get("name", role.name), "description": request.form.get("description", "")}
    try:
        with service_guard():
            orgservice.update_role(session, role_id, name=values["name"], description=values["description"],
                                   grants=grants)
    except ValidationError as exc:
        session.rollback()
        role = orgservice.get_role(session, role_id)
        return _render_role(role, {**orgservice.role_grants(role), **grants}, values, field_errors(exc), 422)
    flash_saved(_("Role saved. Users holding it get the new permissions at their next page."))
    return redirect(url_for("admin.role_edit", role_id=role_id))


@bp.route("/roles/<int:role_id>/delete", methods=["POST"])
@requires(orgservice.ROLES)
def role_delete(role_id):
    session = db()
    try:
        with service_guard():
            orgservice.delete_role(session, role_id)
    except ValidationError as exc:
        session.rollback()
        role = orgservice.get_role(session, role_id)
        return _render_role(role, orgservice.role_grants(role), {"name": role.name,
                                                                  "description": role.description},
                            field_errors(exc), 422)
    flash_saved(_("Role deleted."))
    return redirect(url_for("admin.roles"))
