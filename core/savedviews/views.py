"""Saved-view pages: save the current list state, apply, manage (delete, share) — and the list-page menu."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core.authz import has, requires
from core.i18n import _, plain
from core.models import Department, Role
from core.runtime import db
from core.savedviews import services
from core.web import listing
from core.web.common import ID, entity_permission, parse_id, spec_or_404

bp = Blueprint("savedviews", __name__, url_prefix="/views")


def _list_url(spec, query: str = "") -> str:
    base = url_for("web.record_list", entity=spec.name)
    return f"{base}?{query}" if query else base


def _messages(err) -> str:
    return " ".join(m for msgs in plain(err.messages).values() for m in msgs)


def menu_context(spec) -> dict:
    """What the list page's "Views" menu shows (a template global: ``saved_views_menu(spec)``)."""
    if g.get("user") is None:
        return {"views": []}
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in services.PAGE_STATE])
    return {"views": services.views_for(db(), spec, g.user), "active": parse_id(request.args.get("view")),
            "query": query, "user_id": g.user.id}


def _load(view_id, manage=False):
    try:
        if manage:
            return services.get_manageable(db(), view_id, g.user)
        return services.get_visible(db(), view_id, g.user)
    except services.NotFound:
        abort(404)


@bp.route("/<entity>/")
@requires(entity_permission("view"))
def manage(entity):
    spec = spec_or_404(entity)
    can_share = has(services.ADMIN_PERMISSION)
    roles = db().execute(select(Role).order_by(Role.name)).scalars().all() if can_share else []
    departments = db().execute(select(Department).order_by(Department.path)).scalars().all() if can_share else []
    return render_template("savedviews/manage.html", spec=spec, views=services.views_for(db(), spec, g.user),
                           can_share=can_share, roles=roles, departments=departments, user_id=g.user.id,
                           is_admin=can_share)


@bp.route("/<entity>/", methods=["POST"])
@requires(entity_permission("view"))
def save(entity):
    spec = spec_or_404(entity)
    query = request.form.get("query", "")
    try:
        view = services.save(db(), spec, g.user.id, request.form.get("name", ""), query,
                             columns=listing.visible_columns(spec))
    except ValidationError as err:
        db().rollback()
        flash(_messages(err), "error")
        return redirect(_list_url(spec))
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(_list_url(spec, _with_view(view)))


def _with_view(view) -> str:
    return "&".join(part for part in (view.query, urlencode({"view": view.id})) if part)


@bp.route(f"/<entity>/<{ID}:view_id>", methods=["POST"])
@requires(entity_permission("view"))
def apply(entity, view_id):
    """Open the list with the view's arguments, checked again for the viewer (his fields, his scope), and
    its columns as the viewer's column choice (a POST: it changes that choice)."""
    spec = spec_or_404(entity)
    view = _load(view_id)
    if view.entity != spec.name:
        abort(404)
    try:
        services.clean_query(spec, view.query)
    except ValidationError:
        flash(_("The view “%(name)s” no longer fits this list and was not applied.", name=view.name), "error")
        return redirect(_list_url(spec))
    services.apply_columns(db(), spec, g.user.id, view)
    return redirect(_list_url(spec, _with_view(view)))


@bp.route(f"/<entity>/<{ID}:view_id>/delete", methods=["POST"])
@requires(entity_permission("view"))
def delete(entity, view_id):
    spec = spec_or_404(entity)
    view = _load(view_id, manage=True)
    if view.entity != spec.name:
        abort(404)
    services.delete(db(), view)
    flash(_("View “%(name)s” deleted.", name=view.name), "success")
    return redirect(url_for("savedviews.manage", entity=spec.name))


@bp.route(f"/<entity>/<{ID}:view_id>/share", methods=["POST"])
@requires(services.ADMIN_PERMISSION)
def share(entity, view_id):
    spec = spec_or_404(entity)
    view = _load(view_id, manage=True)
    if view.entity != spec.name:
        abort(404)
    try:
        services.share(db(), view, parse_id(request.form.get("role_id")),
                       parse_id(request.form.get("department_id")))
    except ValidationError as err:
        db().rollback()
        flash(_messages(err), "error")
    else:
        flash(_("Sharing of “%(name)s” changed.", name=view.name), "success")
    return redirect(url_for("savedviews.manage", entity=spec.name))
