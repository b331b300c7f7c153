"""Permissions, data-scope levels and the stock roles.

The permission matrix is data: ``STOCK_ROLES`` documents who may do what and seeds the database; tests
compare the app's answers with an oracle written from the same documented rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("none", "own", "team", "all")
RANK = {name: i for i, name in enumerate(LEVELS)}


def widest(levels) -> str:
    """The widest of several levels (a user's effective scope over all his roles)."""
    best = "none"
    for level in levels:
        if RANK[level] > RANK[best]:
            best = level
    return best


@dataclass(frozen=True)
class Permission:
    """``name`` is ``<module>.<entity>.<action>``; ``scoped`` permissions carry a data scope."""

    name: str
    label: str
    scoped: bool = False

    @property
    def module(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass
class StockRole:
    """Grants a module contributes to a stock role: ``{permission: level}``."""

    key: str
    grants: dict[str, str] = field(default_factory=dict)


STOCK_ROLE_KEYS = ("admin", "boss", "sales_manager", "salesperson", "service", "procurement")


class PermissionRegistry:
    """All permissions of core and enabled plugins, validated at start-up."""

    def __init__(self):
        self._by_name: dict[str, Permission] = {}

    def add(self, permission: Permission, module: str):
        parts = permission.name.split(".")
        if len(parts) < 2 or not all(parts):
            raise ValueError(f"permission {permission.name!r} is not <module>.<entity>.<action>")
        if parts[0] != module:
            raise ValueError(f"module {module!r} may not register permission {permission.name!r}")
        if permission.name in self._by_name:
            raise ValueError(f"permission {permission.name!r} registered twice")
        self._by_name[permission.name] = permission

    def __contains__(self, name):
        return name in self._by_name

    def __getitem__(self, name) -> Permission:
        return self._by_name[name]

    def __iter__(self):
        return iter(sorted(self._by_name.values(), key=lambda p: p.name))
