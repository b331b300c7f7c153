"""Small helpers shared by the web views: entity lookup, permissions of view arguments, scope, redirects."""
from __future__ import annotations

from flask import abort, current_app, request, url_for
from sqlalchemy import select

from core.runtime import current, db
from core.scope import current_scope


# Ids beyond a signed 64-bit integer cannot exist; refusing them early keeps them away from the database
# driver (SQLite raises OverflowError on them). Routes use ``<{ID}:record_id>``.
MAX_ID = 2**63 - 1
ID = f"int(max={MAX_ID})"


def parse_id(value):
    """A positive id from form or query text, or None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def spec_or_404(entity: str):
    """The ``EntitySpec`` named ``entity``; 404 for unknown or disabled modules."""
    spec = current().entities.get(entity)
    if spec is None:
        abort(404)
    return spec


def entity_permission(action: str):
    """For ``@requires``: the permission ``action`` on the entity of the URL (None -> 404)."""
    def permission(entity, **_kwargs):
        spec = current().entities.get(entity)
        return spec.permission(action) if spec is not None else None
    permission.__name__ = f"entity_{action}_permission"
    return permission


def scope():
    """The data scope of the current request."""
    return current_scope(db())


def hidden_fields(spec) -> set[str]:
    """Fields of ``spec`` the current user may not see (procurement cost for salespeople...)."""
    return spec.hidden_fields(scope())


def safe_next(target: str | None, fallback: str) -> str:
    """A same-site path to go back to after a POST, never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def config_int(name: str, default: int) -> int:
    try:
        return int(current_app.config.get(name, default))
    except (TypeError, ValueError):
        return default


def page_limit() -> int:
    """``?limit=`` capped at ``MAX_PAGE_SIZE``; the default is ``PAGE_SIZE``."""
    default = config_int("PAGE_SIZE", 50)
    maximum = config_int("MAX_PAGE_SIZE", 200)
    try:
        limit = int(request.args.get("limit", default))
    except (TypeError, ValueError):
        limit = default
    return max(1, min(limit, maximum))


def detail_url(spec, record_id) -> str:
    return url_for("web.record_detail", entity=spec.name, record_id=record_id)


def may(spec, record_id, action: str) -> bool:
    """May the current user ``action`` this record (to show or hide a button)? The same permission and
    scope criteria as ``services.get``, asked with a light ``SELECT id``; the service still decides."""
    user_scope = scope()
    if not user_scope.has(spec.permission(action)):
        return False
    criteria = user_scope.criteria(spec, action)
    stmt = select(spec.model.id).where(spec.model.id == record_id)
    if criteria is not None:
        stmt = stmt.where(criteria)
    return db().execute(stmt).first() is not None
