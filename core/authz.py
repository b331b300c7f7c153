"""Route declarations and the request's principal.

Every view is declared with ``@requires(permission)`` (a string, or a function of the view arguments that
returns one, e.g. the entity's "view" permission) or ``@public``; ``@login_required_only`` marks views any
logged-in user may open (profile, dashboard). A contract test walks ``app.url_map`` and fails on a view
without a declaration.
"""
from __future__ import annotations

import functools

from flask import abort, g, jsonify, redirect, request, url_for

from core.i18n import _
from core.runtime import current, db
from core.scope import AnonymousScope, build_user_scope, current_scope, set_scope


def _declare(view, kind, permission=None):
    view._guanxi_access = (kind, permission)
    return view


def public(view):
    """Reachable without login (login page, static assets, health check)."""
    return _declare(view, "public")


def _wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _unauthenticated():
    if _wants_json():
        response = jsonify(error="unauthorized", message=_("Authentication required."))
        response.status_code = 401
        return response
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def login_required_only(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return _unauthenticated()
        return view(*args, **kwargs)
    return _declare(wrapper, "login")


def requires(permission):
    """Logged in and holding ``permission`` (any level above none), else 401/redirect or 403."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.get("user") is None:
                return _unauthenticated()
            name = permission(**kwargs) if callable(permission) else permission
            if name is None:
                abort(404)
            if not current_scope(db()).has(name):
                abort(403)
            return view(*args, **kwargs)
        return _declare(wrapper, "permission", permission)
    return decorator


def has(permission: str) -> bool:
    """For templates and views: does the current principal hold ``permission``?"""
    if g.get("user") is None:
        return False
    return current_scope(db()).has(permission)


def establish_scope(user):
    """Attach ``user``'s data scope (or the anonymous one) to the request session."""
    gx = current()
    session = db()
    g.user = user
    if user is None:
        set_scope(session, AnonymousScope(gx.entities))
    else:
        set_scope(session, build_user_scope(session, user, gx.entities, gx.hook))
