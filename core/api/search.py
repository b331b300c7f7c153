"""``GET /api/v1/search?q=…&limit=…&entity=…``: the global search, grouped by entity, within the caller's
data scope (the same service as the search page).

Each hit carries its id, title, the detail URL of the API and the searchable values the caller may see —
never a restricted field.
"""
from __future__ import annotations

from flask import jsonify, request, url_for

from core import search as search_service
from core.api.blueprint import bp
from core.api.errors import api_abort
from core.api.params import MAX_SEARCH_LENGTH
from core.authz import login_required_only
from core.i18n import _l
from core.runtime import current, db
from core.scope import current_scope

DEFAULT_LIMIT, MAX_LIMIT = 10, 50


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        api_abort(400, {"limit": [str(_l("A whole number from 1 to {max}.").format(max=MAX_LIMIT))]})
    return int(raw)


def _term() -> str:
    term = (request.args.get("q") or "").strip()
    if len(term) > MAX_SEARCH_LENGTH:
        api_abort(400, {"q": [str(_l("At most {max} characters.").format(max=MAX_SEARCH_LENGTH))]})
    return term


def _hit(group, hit, hidden) -> dict:
    spec, record = group.spec, hit.record
    url = url_for("api.record_detail", entity=spec.name, record_id=record.id) if spec.api else None
    values = {name: getattr(record, name, None) for name in group.provider.indexed_fields() if name not in hidden}
    return {"id": record.id, "title": hit.title, "url": url,
            "fields": {name: str(value) for name, value in values.items() if value not in (None, "")}}


@bp.get("/v1/search")
@login_required_only
def global_search():
    term, limit = _term(), _limit()
    entities = request.args.getlist("entity") or None
    groups = search_service.search(db(), term, search_service.providers(current()), limit=limit,
                                   entities=entities)
    user_scope = current_scope(db())
    return jsonify(q=term, groups=[
        {"entity": g.spec.name, "label": str(g.spec.label_plural), "more": g.more,
         "items": [_hit(g, hit, g.spec.hidden_fields(user_scope)) for hit in g.hits]} for g in groups])
