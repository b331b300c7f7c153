"""The per-user column chooser of list pages (custom fields included), stored in the ``setting`` table."""
from __future__ import annotations

from flask import redirect, request, url_for

from core.authz import requires
from core.customfields import web as custom_web
from core.runtime import db
from core.web import bp, listing
from core.web.common import entity_permission, safe_next, scope, spec_or_404


@bp.route("/r/<entity>/columns", methods=["POST"])
@requires(entity_permission("view"))
def record_columns(entity):
    """Save which columns this user sees on this entity's list ("reset" = back to the default)."""
    spec = spec_or_404(entity)
    columns = [] if request.form.get("reset") else request.form.getlist("columns")
    custom_web.save_columns(db(), spec, scope().user_id, columns, listing.choosable_columns(spec))
    return redirect(safe_next(request.form.get("next"), url_for("web.record_list", entity=spec.name)))
