"""Generic record endpoints: every ``EntitySpec`` with ``api=True`` (core or plugin) gets list, create,
detail, partial update and delete with no code of its own.

``/api/v1/<entity>``                    GET list · POST create
``/api/v1/<entity>/<int:record_id>``    GET detail · PATCH update · DELETE (soft) delete
"""
from __future__ import annotations

from flask import jsonify, request, url_for

from core import services
from core.api.blueprint import bp
from core.api.bodies import dump_schema, guarded, load_body
from core.api.columns import int_limit
from core.api.errors import api_abort
from core.api.params import parse_list_params, schema_filter_fields
from core.api.published import api_spec, spec_permission
from core.authz import requires
from core.customfields.query import api_filter_fields, api_sort_keys
from core.runtime import current, db
from core.scope import current_scope


def _context(entity: str, record_id: int | None = None):
    """(spec, session, hidden fields); a record id past the id column's range is simply not found."""
    spec = api_spec(entity)
    if record_id is not None and record_id > int_limit(spec.model, "id"):
        api_abort(404)
    session = db()
    return spec, session, spec.hidden_fields(current_scope(session))


@bp.get("/v1/<entity>")
@requires(lambda entity, **_kw: spec_permission(entity, "view"))
def record_list(entity):
    spec, session, hidden = _context(entity)
    params = parse_list_params(
        request.args, model=spec.model,
        filter_fields={**schema_filter_fields(spec.schema(), spec.filter_fields), **api_filter_fields(session, spec)},
        sort_fields=list(spec.sort_fields) + api_sort_keys(session, spec), hidden=hidden)
    page = guarded(session, lambda: services.page(
        session, spec, services.list_query(session, spec, filters=params.filters, search=params.search),
        sort=params.sort, cursor=params.cursor, limit=params.limit,
        count_cap=int(current().settings["COUNT_CAP"])), invalid_status=400)
    return jsonify(items=dump_schema(spec, hidden).dump(page.rows, many=True), next_cursor=page.next_cursor,
                   count=page.count, count_capped=page.count_capped)


@bp.post("/v1/<entity>")
@requires(lambda entity, **_kw: spec_permission(entity, "create"))
def record_create(entity):
    spec, session, hidden = _context(entity)
    data = load_body(spec, hidden)
    record = guarded(session, lambda: services.create(session, spec, data, current().entities))
    response = jsonify(dump_schema(spec, hidden).dump(record))
    response.status_code = 201
    response.headers["Location"] = url_for("api.record_detail", entity=spec.name, record_id=record.id)
    return response


@bp.get("/v1/<entity>/<int:record_id>")
@requires(lambda entity, **_kw: spec_permission(entity, "view"))
def record_detail(entity, record_id):
    spec, session, hidden = _context(entity, record_id)
    record = guarded(session, lambda: services.get(session, spec, record_id))
    return jsonify(dump_schema(spec, hidden).dump(record))


@bp.patch("/v1/<entity>/<int:record_id>")
@requires(lambda entity, **_kw: spec_permission(entity, "edit"))
def record_update(entity, record_id):
    spec, session, hidden = _context(entity, record_id)
    data = load_body(spec, hidden, partial=True)
    record = guarded(session, lambda: services.update(session, spec, record_id, data, current().entities))
    return jsonify(dump_schema(spec, hidden).dump(record))


@bp.delete("/v1/<entity>/<int:record_id>")
@requires(lambda entity, **_kw: spec_permission(entity, "delete"))
def record_delete(entity, record_id):
    spec, session, _hidden = _context(entity, record_id)
    guarded(session, lambda: services.delete(session, spec, record_id))
    return "", 204
