"""Pages: the duplicate finder of an entity and the merge page (choose the survivor and the values)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.orm.exc import StaleDataError

from core import services
from core.authz import requires
from core.dedupe import MERGEABLE, finder, merge
from core.i18n import _, ngettext, plain
from core.runtime import current, db
from core.web import display
from core.web.common import detail_url, entity_permission, parse_id, scope, spec_or_404

bp = Blueprint("dedupe", __name__, url_prefix="/dedupe")

FINDER_COLUMNS = {"customer": ["name", "phone", "email", "city", "owner_id"],
                  "contact": ["name", "customer_id", "mobile", "phone", "email", "owner_id"]}


def mergeable_spec_or_404(entity):
    spec = spec_or_404(entity)
    if spec.name not in MERGEABLE:
        abort(404)
    return spec


@bp.route("/<entity>/")
@requires(entity_permission("edit"))
def duplicates(entity):
    spec = mergeable_spec_or_404(entity)
    groups = finder.duplicate_groups(db(), spec)
    columns = [c for c in FINDER_COLUMNS[spec.name] if c not in spec.hidden_fields(scope())]
    lookups = display.load_lookups(db(), spec, [r for g in groups for r in g.records], columns)
    return render_template("dedupe/finder.html", spec=spec, groups=groups, columns=columns, lookups=lookups,
                           cell=display.record_cell, label=display.label)


def _requested_ids():
    ids = [parse_id(v) for v in request.values.getlist("ids")]
    if not ids or None in ids:
        abort(400)
    return list(dict.fromkeys(ids))


def _render_merge(spec, records, survivor_id, status=200, errors=()):
    fields = merge.plan(spec, records, survivor_id, scope())
    names = [f.name for f in fields]
    lookups = display.load_lookups(db(), spec, records, names)
    return render_template("dedupe/merge.html", spec=spec, records=records, survivor_id=survivor_id,
                           fields=fields, lookups=lookups, errors=list(errors),
                           value_cell=lambda name, value: display.cell(spec, name, value, lookups)), status


def _load_or_404(spec, ids):
    try:
        return merge.load_records(db(), spec, ids)
    except services.NotFound:
        abort(404)
    except services.Forbidden:
        abort(403)


@bp.route("/<entity>/merge", methods=["GET", "POST"])
@requires(entity_permission("edit"))
def merge_page(entity):
    """GET (or the list's bulk POST without ``confirm``): the choices; POST with ``confirm``: the merge."""
    spec = mergeable_spec_or_404(entity)
    ids = _requested_ids()
    if request.method == "POST" and request.form.get("confirm"):
        return _do_merge(spec, ids)
    try:
        records = _load_or_404(spec, ids)
    except ValidationError as err:
        flash(_messages(err), "error")
        return redirect(url_for("dedupe.duplicates", entity=spec.name))
    survivor_id = parse_id(request.values.get("survivor_id"))
    if survivor_id not in ids:
        survivor_id = min(ids)  # the oldest record survives unless the user picks another
    return _render_merge(spec, records, survivor_id)


def _messages(err) -> str:
    return " ".join(m for msgs in plain(err.messages).values() for m in msgs)


def _do_merge(spec, ids):
    survivor_id = parse_id(request.form.get("survivor_id"))
    if survivor_id not in ids:
        abort(400)
    choices = {name[len("field_"):]: parse_id(value) for name, value in request.form.items()
               if name.startswith("field_")}
    merged_ids = [i for i in ids if i != survivor_id]
    try:
        merge.merge(db(), spec, survivor_id, merged_ids, choices, current().hook)
    except services.NotFound:
        abort(404)
    except services.Forbidden:
        abort(403)
    except ValidationError as err:
        records = _load_or_404(spec, ids)
        return _render_merge(spec, records, survivor_id, 422, errors=[_messages(err)])
    except StaleDataError:  # someone saved one of the records meanwhile: nothing was merged
        records = _load_or_404(spec, ids)
        return _render_merge(spec, records, survivor_id, 409, errors=[
            _("Someone changed one of these records while you were merging. Nothing was merged: check the "
              "values again.")])
    flash(ngettext("%(num)d record merged into this one; it is in the recycle bin.",
                   "%(num)d records merged into this one; they are in the recycle bin.", len(merged_ids)), "success")
    return redirect(detail_url(spec, survivor_id))
