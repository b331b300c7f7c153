"""Modules and licence: what is installed, enabled, licensed and why; the administrator's switches."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from marshmallow import ValidationError

from core import orgservice
from core.admin import bp
from core.admin.helpers import field_errors, flash_saved, service_guard
from core.authz import requires
from core.i18n import _
from core.runtime import current, db


def _render(errors=None, status=200):
    session = db()
    gx = current()
    with service_guard():
        choices = orgservice.module_states(session)
    modules = sorted(gx.modules.values(), key=lambda m: m.name)
    return render_template("admin/modules.html", modules=modules, choices=choices, licence=gx.licence,
                           seats_used=orgservice.seats_used(session), errors=errors or {}), status


@bp.route("/modules")
@requires(orgservice.MODULES)
def modules():
    return _render()


@bp.route("/modules/<name>", methods=["POST"])
@requires(orgservice.MODULES)
def module_state(name):
    enabled = request.form.get("enabled")
    if enabled not in ("0", "1"):
        abort(400)
    session = db()
    try:
        with service_guard():
            orgservice.set_module_enabled(session, name, enabled == "1")
    except ValidationError as exc:
        session.rollback()
        return _render(field_errors(exc), 422)
    flash_saved(_("Saved. The change applies when the application servers restart."))
    return redirect(url_for("admin.modules"))
