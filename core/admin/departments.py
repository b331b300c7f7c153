"""Departments: the company tree with create, rename, move, manager and delete."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select

from core import orgservice
from core.admin import bp
from core.admin.helpers import field_errors, flash_saved, service_guard
from core.authz import requires
from core.i18n import _
from core.models import User
from core.runtime import db


def _render(errors=None, open_id=None, values=None, status=200):
    session = db()
    departments = orgservice.departments_tree(session)
    counts = dict(session.execute(select(User.department_id, func.count(User.id))
                                  .where(User.active.is_(True)).group_by(User.department_id)).all())
    users = session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all()
    return render_template("admin/departments.html", departments=departments, user_counts=counts,
                           users=users, users_by_id={u.id: u for u in users}, errors=errors or {},
                           open_id=open_id, values=values or {}), status


@bp.route("/departments", methods=["GET", "POST"])
@requires(orgservice.DEPARTMENTS)
def departments():
    if request.method == "GET":
        return _render()
    values = {"name": request.form.get("name", ""), "parent_id": request.form.get("parent_id", "")}
    return _apply(lambda s: orgservice.create_department(s, values["name"], values["parent_id"] or None),
                  _("Department created."), open_id="new", values=values)


def _apply(change, message, open_id, values=None):
    """Run one department change; on a refusal show the tree again with the error next to its field."""
    session = db()
    try:
        with service_guard():
            change(session)
    except ValidationError as exc:
        session.rollback()
        return _render(field_errors(exc), open_id, values, 422)
    flash_saved(message)
    return redirect(url_for("admin.departments"))


@bp.route("/departments/<int:dept_id>/rename", methods=["POST"])
@requires(orgservice.DEPARTMENTS)
def department_rename(dept_id):
    name = request.form.get("name", "")
    return _apply(lambda s: orgservice.rename_department(s, dept_id, name), _("Department renamed."),
                  dept_id, {"name": name})


@bp.route("/departments/<int:dept_id>/move", methods=["POST"])
@requires(orgservice.DEPARTMENTS)
def department_move(dept_id):
    parent_id = request.form.get("parent_id", "")
    return _apply(lambda s: orgservice.move_department(s, dept_id, parent_id or None), _("Department moved."),
                  dept_id, {"parent_id": parent_id})


@bp.route("/departments/<int:dept_id>/manager", methods=["POST"])
@requires(orgservice.DEPARTMENTS)
def department_manager(dept_id):
    manager_id = request.form.get("manager_id", "")
    return _apply(lambda s: orgservice.set_department_manager(s, dept_id, manager_id or None),
                  _("Manager saved."), dept_id, {"manager_id": manager_id})


@bp.route("/departments/<int:dept_id>/delete", methods=["POST"])
@requires(orgservice.DEPARTMENTS)
def department_delete(dept_id):
    return _apply(lambda s: orgservice.delete_department(s, dept_id), _("Department deleted."), dept_id)
