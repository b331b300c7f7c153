"""Stock roles: created on ``guanxi init`` / ``guanxi db upgrade`` and extended by every module's
``register_roles()``. A grant an administrator changed is never overwritten; missing ones are added."""
from __future__ import annotations

from sqlalchemy import select

from core.models import Role, RoleGrant
from core.permissions import STOCK_ROLE_KEYS


def seed_roles(session, gx):
    """Create missing stock roles and grants (idempotent). Runs under a system scope."""
    from core.plugin import STOCK_ROLE_NAMES

    wanted: dict[str, dict[str, str]] = {key: {} for key in STOCK_ROLE_KEYS}
    for contributions in gx.hook.register_roles():
        for stock in contributions or []:
            if stock.key not in wanted:
                raise ValueError(f"unknown stock role {stock.key!r}")
            for permission, level in stock.grants.items():
                if permission not in gx.permissions:
                    raise ValueError(f"stock role {stock.key!r} grants unknown permission {permission!r}")
                wanted[stock.key][permission] = level
    # The administrator role holds every permission, so an admin can grant whatever a module adds.
    for permission in gx.permissions:
        wanted["admin"].setdefault(permission.name, "all")
    roles = {r.key: r for r in session.execute(select(Role)).scalars()}
    for key, grants in wanted.items():
        role = roles.get(key)
        if role is None:
            role = Role(key=key, name=str(STOCK_ROLE_NAMES[key]), is_stock=True)
            session.add(role)
        have = {g.permission for g in role.grants}
        for permission, level in grants.items():
            if permission not in have:
                role.grants.append(RoleGrant(permission=permission, level=level))
    session.commit()
