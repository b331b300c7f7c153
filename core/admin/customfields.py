"""Module builder pages: custom fields per extensible entity — add, edit, reorder, group into sections,
deactivate and reactivate — and the customisation export/import (one JSON file).

The views only read forms; ``core.customfields.service`` holds the rules.
"""
from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from core.admin import bp
from core.admin.helpers import flash_saved, service_guard
from core.authz import requires
from core.customfields import service
from core.customfields.display import language
from core.customfields.schema import extensible
from core.customfields.types import all_types
from core.i18n import _
from core.web.forms import field_errors
from core.runtime import current, db

PERMISSION = "core.admin.customfields"
MAX_IMPORT_BYTES = 2 * 1024 * 1024
FLAGS = ("required", "show_in_list", "filterable", "indexed", "unique")


def _entities():
    return [spec for spec in current().entities if extensible(spec)]


def _spec_or_404(entity):
    spec = current().entities.get(entity)
    if spec is None or not extensible(spec):
        abort(404)
    return spec


def _types():
    return all_types(current().pm)


@bp.route("/customfields")
@requires(PERMISSION)
def customfields():
    session = db()
    counts = {spec.name: len(service.fields_of(session, spec.name)) for spec in _entities()}
    return render_template("admin/customfields.html", entities=_entities(), counts=counts)


@bp.route("/customfields/<entity>")
@requires(PERMISSION)
def customfields_entity(entity):
    spec = _spec_or_404(entity)
    rows = service.fields_of(db(), spec.name)
    return render_template("admin/customfields_entity.html", spec=spec, rows=rows, types=_types(),
                           language=language())


def _form_values(form) -> dict:
    """The admin form as service input: options one per line "value | 中文 | English"."""
    values = {name: form.get(name, "") for name in ("type", "label_zh", "label_en", "help_zh", "help_en",
                                                    "section")}
    for flag in FLAGS:
        values[flag] = form.get(flag) in ("on", "1", "true")
    values["options"] = parse_options(form.get("options", ""))
    default = (form.get("default_value") or "").strip()
    if values["type"] == "multiselect" and default:
        values["default_value"] = [part.strip() for part in default.split(",") if part.strip()]
    else:
        values["default_value"] = default or None
    return values


def parse_options(text: str) -> list[dict]:
    options = []
    for line in (text or "").splitlines()[:200]:
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        options.append({"value": parts[0], "label_zh": parts[1] if len(parts) > 1 else "",
                        "label_en": parts[2] if len(parts) > 2 else ""})
    return options


def options_text(options) -> str:
    return "\n".join(f"{o.get('value', '')} | {o.get('label_zh', '')} | {o.get('label_en', '')}"
                     for o in options or [])


def _default_text(row) -> str:
    value = row.default_value
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _render_form(spec, values, errors, row=None, status=200):
    types = _types()
    allowed = sorted(types) if row is None else [row.type] + sorted(types[row.type].compatible & set(types)) \
        if row.type in types else [row.type]
    return render_template("admin/customfields_form.html", spec=spec, row=row, values=values, errors=errors,
                           types=types, allowed_types=allowed), status


def _index_warning(row):
    problem = getattr(row, "index_problem", None)
    if problem:
        flash(problem, "warning")


@bp.route("/customfields/<entity>/new", methods=["GET", "POST"])
@requires(PERMISSION)
def customfield_new(entity):
    spec = _spec_or_404(entity)
    if request.method == "GET":
        return _render_form(spec, {"type": "text"}, {})
    try:
        row = service.create_field(db(), spec.name, _form_values(request.form))
    except ValidationError as exc:
        db().rollback()
        return _render_form(spec, request.form.to_dict(), field_errors(exc), status=422)
    _index_warning(row)
    flash_saved(_("Custom field %(label)s added.", label=row.label(language())))
    return redirect(url_for("admin.customfields_entity", entity=spec.name))


@bp.route("/customfields/field/<int:field_id>/edit", methods=["GET", "POST"])
@requires(PERMISSION)
def customfield_edit(field_id):
    with service_guard():
        row = service.get_field(db(), field_id)
    spec = _spec_or_404(row.entity)
    if request.method == "GET":
        values = {name: getattr(row, name) for name in ("type", "label_zh", "label_en", "help_zh", "help_en",
                                                        "section", *FLAGS)}
        values["options"] = options_text(row.options)
        values["default_value"] = _default_text(row)
        return _render_form(spec, values, {}, row=row)
    try:
        _index_warning(service.update_field(db(), field_id, _form_values(request.form)))
    except ValidationError as exc:
        db().rollback()
        values = request.form.to_dict()
        for flag in FLAGS:
            values[flag] = request.form.get(flag) in ("on", "1", "true")
        return _render_form(spec, values, field_errors(exc), row=service.get_field(db(), field_id), status=422)
    flash_saved(_("Custom field saved."))
    return redirect(url_for("admin.customfields_entity", entity=spec.name))


@bp.route("/customfields/field/<int:field_id>/move", methods=["POST"])
@requires(PERMISSION)
def customfield_move(field_id):
    offset = -1 if request.form.get("direction") == "up" else 1
    with service_guard():
        row = service.move(db(), field_id, offset)
    return redirect(url_for("admin.customfields_entity", entity=row.entity))


@bp.route("/customfields/field/<int:field_id>/active", methods=["POST"])
@requires(PERMISSION)
def customfield_active(field_id):
    active = request.form.get("active") == "1"
    with service_guard():
        try:
            row = service.set_active(db(), field_id, active)
        except ValidationError as exc:
            db().rollback()
            flash(" ".join(m for msgs in field_errors(exc).values() for m in msgs), "error")
            return redirect(url_for("admin.customfields"))
    _index_warning(row)
    flash_saved(_("Field reactivated.") if active else _("Field deactivated: it is hidden everywhere and its "
                                                          "values are kept."))
    return redirect(url_for("admin.customfields_entity", entity=row.entity))


@bp.route("/customfields/export.json")
@requires(PERMISSION)
def customfields_export():
    document = service.export_document(db())
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="guanxi-customfields.json"'
    return response


@bp.route("/customfields/import", methods=["POST"])
@requires(PERMISSION)
def customfields_import():
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    try:
        if not raw or len(raw) > MAX_IMPORT_BYTES:
            raise ValueError
        document = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        flash(_("Choose a custom field export file (JSON, at most 2 MB)."), "error")
        return redirect(url_for("admin.customfields"))
    try:
        counts = service.import_document(db(), document)
    except ValidationError as exc:
        db().rollback()
        messages = field_errors(exc)
        flash(_("Nothing was imported: %(problem)s", problem="; ".join(
            f"{name}: {json.dumps(msgs, ensure_ascii=False)}" for name, msgs in messages.items())), "error")
        return redirect(url_for("admin.customfields"))
    flash_saved(_("Imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged.", **counts))
    return redirect(url_for("admin.customfields"))
