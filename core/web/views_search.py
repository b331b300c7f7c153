"""Global search over every entity with a search provider (within the user's data scope), its navbar
autocomplete, and the recycle bin of every entity the user may delete."""
from __future__ import annotations

from flask import render_template, request

from core import search as search_service
from core import services
from core.authz import login_required_only
from core.db import SoftDeleteMixin
from core.runtime import current, db
from core.search.highlight import highlight
from core.web import bp
from core.web.common import scope
from core.web.listing import MAX_SEARCH_LENGTH

SEARCH_PER_ENTITY = 10
SEARCH_ONE_ENTITY = 100  # "Show all" of one group
SUGGEST_PER_ENTITY = 3
RECYCLE_BIN_ROWS = 100


def _term() -> str:
    return (request.args.get("q") or "").strip()[:MAX_SEARCH_LENGTH]


def search_groups(term: str, limit: int = SEARCH_PER_ENTITY, entities=None):
    """Hits of each entity the user may view, through the scoped request session."""
    return search_service.search(db(), term, search_service.providers(current()), limit=limit,
                                 entities=entities)


@bp.route("/search")
@login_required_only
def search():
    term = _term()
    entity = request.args.get("entity") or None
    if entity is not None and current().entities.get(entity) is None:
        entity = None
    limit = SEARCH_ONE_ENTITY if entity else SEARCH_PER_ENTITY
    groups = search_groups(term, limit, [entity] if entity else None) if term else []
    return render_template("web/search.html", term=term, groups=groups, mark=highlight, entity=entity,
                           too_short=bool(term) and not search_service.tokens.query_prefixes(term))


@bp.route("/search/suggest")
@login_required_only
def search_suggest():
    """The navbar box's drop-down (an HTML fragment fetched by htmx while the user types)."""
    term = _term()
    groups = search_groups(term, SUGGEST_PER_ENTITY) if term else []
    return render_template("web/search_suggest.html", term=term, groups=groups, mark=highlight)


@bp.route("/recycle-bin")
@login_required_only
def recycle_bin():
    user_scope = scope()
    groups = []
    for spec in current().entities:
        if not issubclass(spec.model, SoftDeleteMixin) or not user_scope.has(spec.permission("delete")):
            continue
        stmt = services.list_query(db(), spec, include_deleted=True)
        criteria = user_scope.criteria(spec, "delete")  # only what he could restore
        if criteria is not None:
            stmt = stmt.where(criteria)
        rows = db().execute(stmt.order_by(spec.model.deleted_at.desc(), spec.model.id.desc())
                            .limit(RECYCLE_BIN_ROWS)).unique().scalars().all()
        if rows:
            groups.append({"spec": spec, "rows": rows})
    return render_template("web/recycle_bin.html", groups=groups)
