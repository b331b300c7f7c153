"""What the organisation services share: permission names, error helpers and the grant comparison that
stops anybody from handing out more than he holds."""
from __future__ import annotations

from flask import has_app_context
from marshmallow import ValidationError

from core.i18n import _l
from core.permissions import RANK
from core.scope import current_scope
from core.services import Forbidden

USERS, DEPARTMENTS, ROLES, MODULES = ("core.admin.users", "core.admin.departments", "core.admin.roles",
                                      "core.admin.modules")


def invalid(field_name, message):
    return ValidationError({field_name: [message]})


def caller_id(session):
    return current_scope(session).user_id


def request_token():
    from flask import g, has_request_context
    return g.get("session_token") if has_request_context() else None


def current_gx():
    from core.runtime import current
    return current() if has_app_context() else None


# ================================================================== grants: who may hand out what

def exceeding_grants(scope, grants) -> list[str]:
    """Permissions in ``grants`` (``{permission: level}``) wider than the caller's own level for them."""
    return sorted(p for p, level in grants.items() if RANK.get(level, 0) > RANK[scope.level(p)])


def role_grants(role) -> dict[str, str]:
    return {g.permission: g.level for g in role.grants}


def may_grant_role(scope, role) -> bool:
    """May the caller give (or take away) ``role``? Only when it grants nothing beyond his own levels."""
    return not exceeding_grants(scope, role_grants(role))


def may_manage_user(scope, user) -> bool:
    """May the caller edit ``user`` (profile, password, activation)? Not when the user holds more power."""
    return all(may_grant_role(scope, role) for role in user.roles)


def require_manageable(session, user):
    if not may_manage_user(current_scope(session), user):
        raise Forbidden(_l("This user holds roles wider than yours: you may not manage him."))


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
