"""Global search over every entity the user may view, and the recycle bin of every entity he may delete."""
from __future__ import annotations

from flask import render_template, request

from core import services
from core.authz import login_required_only
from core.db import SoftDeleteMixin
from core.runtime import current, db
from core.web import bp, display
from core.web.common import scope
from core.web.listing import MAX_SEARCH_LENGTH

SEARCH_PER_ENTITY = 10
RECYCLE_BIN_ROWS = 100


def search_groups(term: str) -> list[dict]:
    """First matches of each entity, within the user's data scope (the scoped session decides)."""
    groups = []
    user_scope = scope()
    for spec in current().entities:
        fields = [f for f in spec.search_fields if f not in spec.hidden_fields(user_scope)]
        if not fields or not user_scope.has(spec.permission("view")):
            continue
        stmt = services.list_query(db(), spec, search=term)
        rows = db().execute(stmt.order_by(spec.model.id.desc()).limit(SEARCH_PER_ENTITY + 1)).unique().scalars().all()
        if rows:
            groups.append({"spec": spec, "rows": rows[:SEARCH_PER_ENTITY], "more": len(rows) > SEARCH_PER_ENTITY,
                           "fields": fields})
    return groups


@bp.route("/search")
@login_required_only
def search():
    term = (request.args.get("q") or "").strip()[:MAX_SEARCH_LENGTH]
    groups = search_groups(term) if term else []
    return render_template("web/search.html", term=term, groups=groups, cell=display.record_cell,
                           lookups=display.Lookups())


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
