"""List page, CSV export, bulk owner transfer and the reference autocomplete of every entity."""
from __future__ import annotations

import datetime as dt

from flask import (
    Response, abort, flash, jsonify, redirect, render_template, request, stream_with_context, url_for,
)
from flask_babel import format_number
from marshmallow import ValidationError

from core import services
from core.authz import has, requires
from core.i18n import _, ngettext, plain
from core.customfields import web as custom_web
from core.runtime import current, db
from core.web import bp, display, listing
from core.web.common import entity_permission, parse_id, safe_next, scope, spec_or_404
from core.web.export import export_rows
from core.web.pickers import owner_options
from core.web.responses import content_disposition

# Children that follow their parent when its owner changes (a customer's contacts stay with the customer).
TRANSFER_CASCADE = {"customer": (("contact", "customer_id"),)}
LOOKUP_LIMIT = 20


def _page(spec, args, columns):
    stmt = listing.list_statement(db(), spec, args)
    try:
        return services.page(db(), spec, stmt, sort=args.sort, cursor=args.cursor, limit=args.limit,
                             count_cap=int(current().settings.get("COUNT_CAP", 10000)),
                             # the sort column too: the next-page cursor reads it from the last row
                             options=services.shown_only_loading(spec, [*columns, args.sort.lstrip("-")]))
    except ValidationError:
        abort(400)


def count_text(result) -> str:
    text = format_number(result.count)
    return text + "+" if result.count_capped else text


@bp.route("/r/<entity>/")
@requires(entity_permission("view"))
def record_list(entity):
    spec = spec_or_404(entity)
    args = listing.parse_list_args(spec)
    columns = listing.visible_columns(spec)
    result = _page(spec, args, columns)
    lookups = display.load_lookups(db(), spec, result.rows, columns)
    rows = display.list_rows(spec, result.rows, columns, lookups)
    can_transfer = spec.scoped and has(spec.permission("edit"))
    actions = [a for group in current().hook.list_actions(entity=spec.name, user=scope().user) for a in group or []
               if a.permission is None or has(a.permission)]
    return render_template(
        "web/list.html", spec=spec, args=args, columns=columns, page=result, rows=rows, lookups=lookups,
        count_text=count_text(result), sortable=listing.sortable_fields(spec),
        filters=listing.filter_controls(spec, args), cell=display.record_cell, label=display.label,
        owner_choices=owner_options(spec, "edit") if can_transfer else [], can_transfer=can_transfer,
        bulk_actions=actions, can_export=has(spec.permission("export")),
        column_choices=custom_web.column_choices(spec, columns, listing.choosable_columns(spec)),
        can_create=has(spec.permission("create")))


@bp.route("/r/<entity>/export.csv")
@requires(entity_permission("export"))
def record_export(entity):
    spec = spec_or_404(entity)
    args = listing.parse_list_args(spec)
    columns = ["id"] + [c for c in listing.visible_columns(spec) if c != "id"]
    stmt = listing.list_statement(db(), spec, args)
    chunks = (chunk.encode("utf-8") for chunk in export_rows(db(), spec, stmt, args.sort, columns))
    today = dt.datetime.now(display.local_timezone()).date().isoformat()
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(f"{spec.label_plural}-{today}.csv",
                                                                  fallback=f"{spec.name}-{today}.csv")
    return response


@bp.route("/r/<entity>/transfer", methods=["POST"])
@requires(entity_permission("edit"))
def record_transfer(entity):
    spec = spec_or_404(entity)
    back = safe_next(request.form.get("next"), url_for("web.record_list", entity=spec.name))
    if not spec.scoped:
        abort(404)
    ids = [parse_id(v) for v in request.form.getlist("ids")]
    owner_id = parse_id(request.form.get("owner_id"))
    if not ids or None in ids or owner_id is None:
        flash(_("Choose the records and the new owner."), "error")
        return redirect(back)
    cascade = [(current().entities[name], fk) for name, fk in TRANSFER_CASCADE.get(spec.name, ())
               if current().entities.get(name) is not None]
    try:
        services.transfer(db(), spec, ids, owner_id, cascade=cascade)
    except services.NotFound:
        abort(404)
    except ValidationError as err:
        db().rollback()
        flash(" ".join(m for msgs in plain(err.messages).values() for m in msgs), "error")
        return redirect(back)
    flash(ngettext("Owner changed for %(num)d record.", "Owner changed for %(num)d records.", len(set(ids))),
          "success")
    return redirect(back)


@bp.route("/r/<entity>/lookup")
@requires(entity_permission("view"))
def record_lookup(entity):
    """Autocomplete for reference inputs: ``<option>`` elements for htmx, JSON otherwise."""
    spec = spec_or_404(entity)
    term = (request.args.get("q") or request.args.get("lookup") or "").strip()[:100]
    stmt = services.list_query(db(), spec, search=term if term and spec.search_fields else None)
    rows = db().execute(stmt.order_by(spec.model.id.desc()).limit(LOOKUP_LIMIT)).unique().scalars().all()
    items = [{"id": r.id, "title": spec.title(r)} for r in rows]
    if request.headers.get("HX-Request"):
        return render_template("web/lookup_options.html", items=items, term=term)
    return jsonify(items=items)
