"""Pages of the module: the pipeline board (kanban), the stage move, the forecast and the stage settings.

Every view is declared with ``core.authz``; data is read and written through ``db()`` (the caller's scope)
and the services. The opportunity list, detail and forms are the generic pages of the ``opportunity`` spec.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_from_directory, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core import services as core_services
from core.authz import login_required_only, requires
from core.i18n import _, plain
from core.runtime import current, db
from core.web import display
from core.web.common import ID, detail_url, parse_id, safe_next
from core.web.pickers import owner_options
from plugins.opportunities import panels, services
from plugins.opportunities.models import OpportunityStage
from plugins.opportunities.reasons import reasons_for
from plugins.opportunities.stages import KIND_CHOICES, all_stages, cached_stages, language

bp = Blueprint("opportunities", __name__, url_prefix="/opportunities", template_folder="templates")
STATIC = Path(__file__).parent / "static"
VIEW, EDIT, MANAGE = ("opportunities.opportunity.view", "opportunities.opportunity.edit",
                      "opportunities.stage.manage")


@bp.route("/assets/<path:filename>")
@login_required_only
def asset(filename):
    """The board's script and style (static files: the CSP forbids inline code)."""
    return send_from_directory(STATIC, filename)


def _filters(source):
    month = (source.get("month") or "").strip()[:7]
    return parse_id(source.get("owner")), month if services.month_bounds(month) else ""


@bp.route("/board")
@requires(VIEW)
def board():
    session, spec = db(), panels.spec()
    owner_id, month = _filters(request.args)
    data = services.board(session, owner_id=owner_id, month=month)
    cards = [card for column in data["columns"] for card in column["cards"]]
    lookups = display.load_lookups(session, spec, cards, ["customer_id", "owner_id"])
    lang = language()
    return render_template(
        "opportunities/board.html", columns=data["columns"], start_id=data["start_id"], lookups=lookups,
        editable=panels.editable_ids(session, [c.id for c in cards]), lang=lang,
        stages=[column["stage"] for column in data["columns"]], owner_id=owner_id, month=month,
        owners=owner_options(spec, "view"), reasons={"won": reasons_for("won"), "lost": reasons_for("lost")},
        per_column=services.CARDS_PER_COLUMN, next=request.full_path if request.query_string else request.path)


def _wants_json():
    return request.accept_mimetypes.best == "application/json"


def _column_summary(owner_id, month) -> dict:
    """Counts and totals of every column, as the board shows them (sent back after a move)."""
    data = services.board(db(), owner_id=owner_id, month=month, per_column=0)
    return {str(column["stage"].id): {
        "count": column["count"],
        "totals": [[currency, display.plain_value(total), display.plain_value(weighted)]
                   for currency, total, weighted in column["totals"]]} for column in data["columns"]}


def _refused(status, message, **extra):
    db().rollback()
    if _wants_json():
        return jsonify(error=extra.pop("error", "refused"), message=message, **extra), status
    flash(message, "error")
    return None


@bp.route(f"/<{ID}:record_id>/move", methods=["POST"])
@requires(EDIT)
def move(record_id):
    """Move a card to another stage (drag and drop posts here; so does each card's stage form)."""
    form = request.form
    stage_id = parse_id(form.get("stage_id"))
    version = parse_id(form.get("version"))
    back = safe_next(form.get("next"), url_for("opportunities.board"))
    if stage_id is None:
        return _refused(422, _("Choose a stage."), error="invalid") or redirect(back)
    try:
        record = services.move(db(), current().entities, record_id, stage_id, version,
                               form.get("close_reason") or None, form.get("close_note") or None)
    except core_services.NotFound:
        db().rollback()
        abort(404)
    except core_services.StaleVersion:
        message = _("Someone else changed this opportunity in the meantime; nothing was moved. "
                    "Reload the board to see its current stage.")
        return _refused(409, message, error="stale") or redirect(back)
    except ValidationError as err:
        messages = plain(err.messages)
        db().rollback()
        stage = next((s for s in cached_stages() if s.id == stage_id), None)
        if "close_reason" in messages and stage is not None:
            if not _wants_json():
                return redirect(url_for("opportunities.close", record_id=record_id, stage_id=stage_id,
                                        next=back))
            return _refused(422, messages["close_reason"][0], error="reason_required", kind=stage.kind,
                            reasons=[[value, str(label)] for value, label in reasons_for(stage.kind)])
        first = next(iter(messages.values()))
        return _refused(422, first[0] if isinstance(first, list) else str(first), error="invalid") \
            or redirect(back)
    label = next((s.label(language()) for s in cached_stages() if s.id == record.stage_id), "")
    message = _("“%(name)s” moved to %(stage)s.", name=record.name, stage=label)
    if _wants_json():
        owner_id, month = _filters(form)
        return jsonify(ok=True, id=record.id, stage_id=record.stage_id, version=record.version,
                       message=message, columns=_column_summary(owner_id, month))
    flash(message, "success")
    return redirect(back)


@bp.route(f"/<{ID}:record_id>/close")
@requires(EDIT)
def close(record_id):
    """Ask why a deal was won or lost before moving it to such a stage (the board's no-JS path)."""
    spec = panels.spec()
    try:
        record = core_services.get(db(), spec, record_id, action="edit")
    except core_services.NotFound:
        abort(404)
    stage = next((s for s in cached_stages() if s.id == parse_id(request.args.get("stage_id"))
                  and s.active and s.kind in ("won", "lost")), None)
    if stage is None:
        abort(404)
    return render_template("opportunities/close.html", record=record, stage=stage, label=stage.label(language()),
                           reasons=reasons_for(stage.kind),
                           next=safe_next(request.args.get("next"), detail_url(spec, record.id)))


@bp.route("/forecast")
@requires(VIEW)
def forecast():
    spec = panels.spec()
    owner_id = parse_id(request.args.get("owner"))
    blocks = services.forecast(db(), owner_id=owner_id)
    for block in blocks:
        block["chart"] = {"labels": [m or _("No date") for m, _b in block["months"]],
                          # Chart.js wants numbers; the tables show the exact Decimal figures
                          "values": [float(b["weighted"]) for _m, b in block["months"]]}
    return render_template("opportunities/forecast.html", blocks=blocks, owner_id=owner_id,
                           owners=owner_options(spec, "view"))


# ------------------------------------------------------------------ stage settings

@bp.route("/stages")
@requires(MANAGE)
def stages():
    return _stages_page({}, None, {})


def _stages_page(errors, error_stage_id, typed, status=200):
    return render_template("opportunities/stages.html", stages=all_stages(db()), kinds=KIND_CHOICES,
                           errors=errors, error_stage_id=error_stage_id, typed=typed), status


def _stage_or_404(stage_id):
    stage = db().execute(select(OpportunityStage).where(OpportunityStage.id == stage_id)).scalar_one_or_none()
    if stage is None:
        abort(404)
    return stage


@bp.route("/stages", methods=["POST"])
@requires(MANAGE)
def stage_create():
    return _save_stage(None)


@bp.route(f"/stages/<{ID}:stage_id>", methods=["POST"])
@requires(MANAGE)
def stage_update(stage_id):
    return _save_stage(_stage_or_404(stage_id))


def _save_stage(stage):
    try:
        services.save_stage(db(), stage, request.form)
    except ValidationError as err:
        db().rollback()
        return _stages_page(plain(err.messages), stage.id if stage else "new", request.form, 422)
    flash(_("Stage saved."), "success")
    return redirect(url_for("opportunities.stages"))


@bp.route(f"/stages/<{ID}:stage_id>/reorder", methods=["POST"])
@requires(MANAGE)
def stage_reorder(stage_id):
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    services.reorder_stage(db(), _stage_or_404(stage_id), direction)
    return redirect(url_for("opportunities.stages"))


__all__ = ["bp"]
