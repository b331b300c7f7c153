""""Why can this user see this record?" — the rules that apply, checked against the user's real query."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from core import orgservice
from core.admin import bp
from core.admin.helpers import int_arg, service_guard
from core.authz import requires
from core.i18n import _
from core.models import Department, User
from core.runtime import current, db
from core.services import NotFound


@bp.route("/explain")
@requires(orgservice.ROLES)
def explain():
    session = db()
    form = {"user": int_arg(request.args.get("user")), "entity": request.args.get("entity", ""),
            "record": int_arg(request.args.get("record"))}
    result, error, status = None, None, 200
    if form["user"] and form["entity"] and form["record"]:
        with service_guard():  # no permission -> 403; an unknown or invisible record answers 404 below
            try:
                result = orgservice.explain(session, form["user"], form["entity"], form["record"])
            except NotFound:
                error, status = _("No such user or record."), 404
    users = session.execute(select(User).order_by(User.login)).scalars().all()
    departments = {d.id: d for d in session.execute(select(Department)).scalars()}
    return render_template("admin/explain.html", form=form, result=result, error=error, users=users,
                           users_by_id={u.id: u for u in users}, departments=departments,
                           entities=list(current().entities)), status
