"""Users: list with filters, create, edit (profile and roles), password reset, deactivate / reactivate."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from core import orgservice
from core.admin import bp
from core.admin.helpers import field_errors, flash_saved, int_arg, service_guard
from core.authz import requires
from core.i18n import _
from core.runtime import db
from core.scope import current_scope

PROFILE_FIELDS = ("login", "name", "email", "phone", "department_id", "language")


@bp.route("/users")
@requires(orgservice.USERS)
def users():
    session = db()
    filters = {"department": int_arg(request.args.get("department")), "role": int_arg(request.args.get("role")),
               "active": request.args.get("active", "1")}
    active = {"1": True, "0": False}.get(filters["active"])
    with service_guard():
        rows = orgservice.list_users(session, filters["department"], filters["role"], active)
        roles = orgservice.roles_for_assignment(session)
    return render_template("admin/users.html", users=rows, roles=roles, filters=filters,
                           departments=orgservice.departments_tree(session))


def _form_data(form, new: bool) -> dict:
    data = {name: form.get(name, "") for name in PROFILE_FIELDS}
    data["role_ids"] = form.getlist("role_ids")
    if new:
        data["password"] = form.get("password", "")
        data["active"] = form.get("active") == "1"
    return data


def _render_form(user, values, errors=None, status=200, password_errors=None):
    session = db()
    scope = current_scope(session)
    roles = orgservice.roles_for_assignment(session)
    context = {
        "user": user, "values": values, "errors": errors or {}, "password_errors": password_errors or {},
        "roles": roles, "departments": orgservice.departments_tree(session),
        "grantable": {r.id for r in roles if orgservice.may_grant_role(scope, r)},
        "own_account": user is not None and user.id == g.user.id,
        "manageable": user is None or orgservice.may_manage_user(scope, user),
    }
    return render_template("admin/user_form.html", **context), status


@bp.route("/users/new", methods=["GET", "POST"])
@requires(orgservice.USERS)
def user_new():
    if request.method == "GET":
        return _render_form(None, {"active": True, "role_ids": []})
    data = _form_data(request.form, new=True)
    try:
        with service_guard():
            user = orgservice.create_user(db(), dict(data))
    except ValidationError as exc:
        db().rollback()
        values = {**data, "role_ids": [int_arg(r) for r in data["role_ids"]], "password": ""}
        return _render_form(None, values, field_errors(exc), 422)
    flash_saved(_("User %(login)s created.", login=user.login))
    return redirect(url_for("admin.user_edit", user_id=user.id))


def _values_of(user) -> dict:
    values = {name: getattr(user, name) or "" for name in PROFILE_FIELDS}
    values["role_ids"] = [r.id for r in user.roles]
    values["active"] = user.active
    return values


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(orgservice.USERS)
def user_edit(user_id):
    session = db()
    with service_guard():
        user = orgservice.get_user(session, user_id)
    if request.method == "GET":
        return _render_form(user, _values_of(user))
    data = _form_data(request.form, new=False)
    try:
        with service_guard():
            orgservice.update_user(session, user_id, data)
    except ValidationError as exc:
        session.rollback()
        values = {**data, "role_ids": [int_arg(r) for r in data["role_ids"]], "active": user.active}
        return _render_form(user, values, field_errors(exc), 422)
    flash_saved(_("User %(login)s saved.", login=user.login))
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires(orgservice.USERS)
def user_password(user_id):
    session = db()
    password = request.form.get("password", "")
    errors = None
    if password != request.form.get("password_confirm", ""):
        errors = {"password_confirm": [_("The two passwords differ.")]}
    else:
        try:
            with service_guard():
                user = orgservice.set_password(session, user_id, password)
        except ValidationError as exc:
            session.rollback()
            errors = field_errors(exc)
    if errors:
        with service_guard():
            user = orgservice.get_user(session, user_id)
        return _render_form(user, _values_of(user), status=422, password_errors=errors)
    flash_saved(_("Password of %(login)s changed; the user was logged out everywhere.", login=user.login))
    return redirect(url_for("admin.user_edit", user_id=user_id))


def _set_active(user_id, activate: bool):
    session = db()
    change = orgservice.reactivate_user if activate else orgservice.deactivate_user
    try:
        with service_guard():
            user = change(session, user_id)
    except ValidationError as exc:
        session.rollback()
        with service_guard():
            user = orgservice.get_user(session, user_id)
        return _render_form(user, _values_of(user), field_errors(exc), 422)
    message = _("User %(login)s reactivated.", login=user.login) if activate else \
        _("User %(login)s deactivated and logged out everywhere.", login=user.login)
    flash_saved(message)
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires(orgservice.USERS)
def user_deactivate(user_id):
    return _set_active(user_id, activate=False)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@requires(orgservice.USERS)
def user_reactivate(user_id):
    return _set_active(user_id, activate=True)
