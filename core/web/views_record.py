"""Detail, create, edit, delete and restore pages of every entity (driven by its ``EntitySpec``)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from core import services
from core.authz import has, requires
from core.customfields import schema_for, web as custom_web
from core.db import SoftDeleteMixin
from core.dedupe.warnings import warning_before_create
from core.i18n import _
from core.runtime import current, db
from core.web import bp, display, forms
from core.web.common import (
    ID, detail_url, entity_permission, hidden_fields, may, safe_next, scope, spec_or_404,
)
from core.web.panels import core_panels
from core.web.pickers import owner_options
from core.web.rendering import render_panel


def _save_conflict():
    return _("The record could not be saved: a value is missing or already used by another record "
             "(for example the code).")


def load_or_404(spec, record_id, action="view", include_deleted=False):
    """The record through the scoped query; missing and out of scope answer the same 404."""
    try:
        return services.get(db(), spec, record_id, action=action, include_deleted=include_deleted)
    except services.NotFound:
        abort(404)
    except services.Forbidden:
        abort(403)


def _hook_list(hook_name, **kwargs):
    results = getattr(current().hook, hook_name)(**kwargs)
    return [item for group in results for item in group or []]


@bp.route(f"/r/<entity>/<{ID}:record_id>")
@requires(entity_permission("view"))
def record_detail(entity, record_id):
    spec = spec_or_404(entity)
    record = load_or_404(spec, record_id)
    hidden = hidden_fields(spec)
    fields = [f for f in spec.fields if f.name not in hidden and f.name not in forms.NOT_IN_FORMS
              and f.widget != "hidden"]  # hidden ones (a follow-up's related record) get a panel instead
    names = [f.name for f in fields] + (["owner_id"] if spec.scoped else [])
    can_edit, can_delete = may(spec, record_id, "edit"), may(spec, record_id, "delete")
    user = scope().user
    panels = core_panels(spec, record, can_edit) + _hook_list("record_panels", entity=spec.name, record=record,
                                                              user=user)
    panels.sort(key=lambda p: p.order)
    panels = [(panel, render_panel(panel, record, spec)) for panel in panels]
    actions = [a for a in _hook_list("record_actions", entity=spec.name, record=record, user=user)
               if a.permission is None or has(a.permission)]
    lookups = display.load_lookups(db(), spec, [record], names + custom_web.keys(spec))
    return render_template(
        "web/detail.html", spec=spec, record=record, fields=fields, lookups=lookups, cell=display.record_cell,
        custom_sections=custom_web.detail_sections(spec, record, lookups),
        panels=panels, actions=actions, can_edit=can_edit, can_delete=can_delete,
        owner_choices=owner_options(spec, "edit", record.owner_id) if spec.scoped and can_edit else [],
        title=display.shorten(spec.title(record), 120))


def _render_form(spec, values, errors, status=200, record=None, version=None, general=None, duplicates=()):
    action = "edit" if record is not None else "create"
    form = forms.build_form(spec, values, errors, action)
    custom_sections = custom_web.form_sections(spec, values, errors, action)
    shown = {f.name for f in form} | {f.name for _title, items in custom_sections for f in items}
    general = list(general or []) + [m for name, msgs in errors.items() if name not in shown for m in msgs]
    return render_template("web/form.html", spec=spec, form=form, record=record, version=version,
                           custom_sections=custom_sections,
                           general_errors=general, next=request.values.get("next", ""), duplicates=duplicates,
                           title=display.shorten(spec.title(record), 120) if record is not None else None), status


def _typed_values(spec, form) -> dict:
    """What the user typed (custom fields included), to show it again."""
    return {**forms.values_from_form(spec, form), **custom_web.values_from_form(spec, form)}


def _form_data(spec, form) -> dict:
    """Schema input from the form; custom fields go into ``custom``."""
    data = forms.data_from_form(spec, form)
    custom = custom_web.data_from_form(spec, form)
    if custom is not None:
        data["custom"] = custom
    return data


@bp.route("/r/<entity>/new", methods=["GET", "POST"])
@requires(entity_permission("create"))
def record_new(entity):
    spec = spec_or_404(entity)
    if request.method == "GET":
        return _render_form(spec, {**forms.initial_values(spec, request.args), **custom_web.initial_values(spec)},
                            {})
    try:
        data = schema_for(spec, scope()).load(_form_data(spec, request.form))
        similar = warning_before_create(db(), spec, data, request.form)  # "looks like an existing one"
        if similar:
            return _render_form(spec, _typed_values(spec, request.form), {}, duplicates=similar)
        record = services.create(db(), spec, forms.without_unset_defaults(spec, data), current().entities)
    except ValidationError as err:
        db().rollback()
        return _render_form(spec, _typed_values(spec, request.form), custom_web.field_errors(err.messages),
                            422)
    except IntegrityError:
        db().rollback()
        return _render_form(spec, _typed_values(spec, request.form), {}, 422,
                            general=[_save_conflict()])
    except services.Forbidden:
        abort(403)
    flash(_("%(entity)s saved.", entity=spec.label), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record.id)))


@bp.route(f"/r/<entity>/<{ID}:record_id>/edit", methods=["GET", "POST"])
@requires(entity_permission("edit"))
def record_edit(entity, record_id):
    spec = spec_or_404(entity)
    record = load_or_404(spec, record_id, action="edit")
    if request.method == "GET":
        values = {**forms.values_from_record(spec, record), **custom_web.values_from_record(spec, record)}
        return _render_form(spec, values, {}, record=record,
                            version=getattr(record, "version", None))
    typed = _typed_values(spec, request.form)
    version = request.form.get("version")
    try:
        data = _form_data(spec, request.form)
        if version is not None and hasattr(record, "version"):
            data["version"] = version
        data = forms.without_unset_defaults(spec, schema_for(spec, scope(), partial=True).load(data),
                                            editing=True)
        services.update(db(), spec, record_id, data, current().entities)
    except ValidationError as err:
        db().rollback()
        return _render_form(spec, typed, custom_web.field_errors(err.messages), 422, record=record,
                            version=version)
    except services.StaleVersion:
        db().rollback()
        return _render_form(spec, typed, {}, 409, record=record, version=version, general=[
            _("Someone else changed this record while you were editing it. Nothing was saved: reload the "
              "record to see the current values, then make your change again.")])
    except IntegrityError:
        db().rollback()
        return _render_form(spec, typed, {}, 422, record=record, version=version,
                            general=[_save_conflict()])
    except services.NotFound:
        abort(404)
    flash(_("%(entity)s saved.", entity=spec.label), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record_id)))


@bp.route(f"/r/<entity>/<{ID}:record_id>/delete", methods=["POST"])
@requires(entity_permission("delete"))
def record_delete(entity, record_id):
    spec = spec_or_404(entity)
    try:
        services.delete(db(), spec, record_id)
    except services.NotFound:
        abort(404)
    except ValidationError as err:  # a module refused: something still depends on the record
        db().rollback()
        for message in err.messages.get("_schema", []) if isinstance(err.messages, dict) else err.messages:
            flash(message, "error")
        return redirect(url_for("web.record_detail", entity=spec.name, record_id=record_id))
    flash(_("%(entity)s moved to the recycle bin.", entity=spec.label), "success")
    return redirect(url_for("web.record_list", entity=spec.name))


@bp.route(f"/r/<entity>/<{ID}:record_id>/restore", methods=["POST"])
@requires(entity_permission("delete"))
def record_restore(entity, record_id):
    spec = spec_or_404(entity)
    if not issubclass(spec.model, SoftDeleteMixin):
        abort(404)  # deleted for good: nothing to restore
    try:
        services.restore(db(), spec, record_id)
    except services.NotFound:
        abort(404)
    flash(_("%(entity)s restored.", entity=spec.label), "success")
    return redirect(safe_next(request.form.get("next"), detail_url(spec, record_id)))


@bp.route(f"/followups/<{ID}:record_id>/done", methods=["POST"])
@requires("core.followup.edit")
def followup_done(record_id):
    """"Done" on a to-do: clear the follow-up's next date (audited; only a follow-up the user may edit)."""
    spec = spec_or_404("followup")
    try:
        services.update(db(), spec, record_id, {"next_follow_up": None}, current().entities)
    except services.NotFound:
        abort(404)
    except ValidationError:
        db().rollback()
        flash(_("The follow-up could not be changed."), "danger")
        return redirect(safe_next(request.form.get("next"), url_for("web.dashboard")))
    flash(_("To-do done."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("web.dashboard")))
