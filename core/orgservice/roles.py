"""Roles: custom roles and the grants (permission x level) of every role; stock roles are not deletable."""
from __future__ import annotations

import secrets

from marshmallow import ValidationError
from sqlalchemy import func, select

from core import audit
from core.i18n import _l
from core.models import Role, RoleGrant, user_role
from core.orgservice.common import ROLES, caller_id, current_gx, invalid
from core.permissions import LEVELS, RANK, widest
from core.scope import current_scope
from core.services import NotFound, require


def list_roles(session):
    require(session, ROLES)
    return session.execute(select(Role).order_by(Role.is_stock.desc(), Role.name)).scalars().all()


def get_role(session, role_id) -> Role:
    require(session, ROLES)
    role = session.execute(select(Role).where(Role.id == role_id)).scalar_one_or_none()
    if role is None:
        raise NotFound(f"role {role_id}")
    return role


def role_user_counts(session) -> dict[int, int]:
    rows = session.execute(select(user_role.c.role_id, func.count()).group_by(user_role.c.role_id))
    return {role_id: count for role_id, count in rows}


def _clean_role_name(session, name, role=None):
    name = (name or "").strip()
    if not name:
        raise invalid("name", _l("This field is required."))
    if len(name) > 100:
        raise invalid("name", _l("At most %(n)d characters.", n=100))
    other = session.execute(select(Role.id).where(func.lower(Role.name) == name.lower())).scalar()
    if other is not None and (role is None or other != role.id):
        raise invalid("name", _l("Another role has this name."))
    return name


def create_role(session, name, description="", grants=None) -> Role:
    """A custom role (not stock: it can be deleted while no user holds it)."""
    require(session, ROLES)
    name = _clean_role_name(session, name)
    role = Role(key=f"custom_{secrets.token_hex(6)}", name=name, description=(description or "").strip()[:255],
                is_stock=False)
    session.add(role)
    session.flush()
    audit.record(session, "role", role.id, "create", caller_id(session), {"name": [None, name]})
    if grants:
        _apply_grants(session, role, grants)
    session.commit()
    return role


def update_role(session, role_id, name=None, description=None, grants=None) -> Role:
    """Rename a custom role, change its description and/or its grants (``{permission: level}``; permissions
    not listed keep their grant). Stock roles keep their name but their grants are editable."""
    role = get_role(session, role_id)
    changes = {}
    if name is not None and not role.is_stock:
        name = _clean_role_name(session, name, role)
        if name != role.name:
            changes["name"] = [role.name, name]
            role.name = name
    if description is not None and description.strip()[:255] != role.description:
        changes["description"] = [role.description, description.strip()[:255]]
        role.description = description.strip()[:255]
    if changes:
        audit.record(session, "role", role.id, "update", caller_id(session), changes)
    if grants is not None:
        _apply_grants(session, role, grants)
    session.commit()
    return role


def _valid_levels(permission) -> tuple[str, ...]:
    return LEVELS if permission.scoped else ("none", "all")


def _apply_grants(session, role, grants: dict):
    """Set ``permission -> level`` grants (``none`` removes the grant). Only registered permissions; a level
    must suit the permission; no change may exceed the caller's own level for that permission."""
    gx = current_gx()
    registry = gx.permissions if gx else None
    scope = current_scope(session)
    existing = {g.permission: g for g in role.grants}
    errors, changes = {}, {}
    for permission, level in grants.items():
        perm = registry[permission] if registry is not None and permission in registry else None
        if perm is None:
            errors[permission] = [_l("Unknown permission.")]
            continue
        if level not in _valid_levels(perm):
            errors[permission] = [_l("Not a valid level for this permission.")]
            continue
        old = existing[permission].level if permission in existing else "none"
        if old == level:
            continue
        if RANK[widest([old, level])] > RANK[scope.level(permission)]:
            errors[permission] = [_l("You cannot change a grant beyond your own level.")]
            continue
        changes[permission] = [old, level]
    if errors:
        raise ValidationError(errors)
    for permission, (old, level) in changes.items():
        if level == "none":
            role.grants.remove(existing[permission])
        elif permission in existing:
            existing[permission].level = level
        else:
            role.grants.append(RoleGrant(permission=permission, level=level))
    if changes:
        audit.record(session, "role", role.id, "grants", caller_id(session), changes)
    session.flush()


def delete_role(session, role_id):
    role = get_role(session, role_id)
    if role.is_stock:
        raise invalid("role", _l("Stock roles cannot be deleted."))
    if session.execute(select(user_role.c.user_id).where(user_role.c.role_id == role.id).limit(1)).first():
        raise invalid("role", _l("Users still hold this role; take it from them first."))
    audit.record(session, "role", role.id, "delete", caller_id(session), {"name": [role.name, None]})
    session.delete(role)
    session.commit()

