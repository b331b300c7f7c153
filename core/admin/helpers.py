"""Small helpers shared by the administration views."""
from __future__ import annotations

import contextlib

from flask import abort, flash

from core.admin import bp
from core.i18n import plain
from core.services import Forbidden, NotFound


@contextlib.contextmanager
def service_guard():
    """Turn service refusals into HTTP answers: no permission -> 403, unknown id -> 404."""
    try:
        yield
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)


def field_errors(exc) -> dict[str, list[str]]:
    """A marshmallow ValidationError as ``{field: [plain messages]}`` for the templates."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_form": exc.messages}
    return plain(messages)


def flash_saved(message):
    flash(message, "success")


def role_label(role) -> str:
    """Stock roles show their translated name; custom roles the name the administrator gave them."""
    from core.plugin import STOCK_ROLE_NAMES
    if role.is_stock and role.key in STOCK_ROLE_NAMES:
        return str(STOCK_ROLE_NAMES[role.key])
    return role.name


def int_arg(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.context_processor
def template_helpers():
    from core.permissions import RANK
    return {"role_label": role_label, "level_rank": RANK.get}
