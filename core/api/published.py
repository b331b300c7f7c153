"""Which entities the API publishes: ``api=True`` specs of enabled modules (core is always enabled)."""
from __future__ import annotations

from core.runtime import current


def _module_enabled(gx, module: str) -> bool:
    if module == "core":
        return True
    info = gx.modules.get(module)
    return info is not None and info.enabled


def published_specs() -> list:
    gx = current()
    return [spec for spec in gx.entities if spec.api and _module_enabled(gx, spec.module)]


def api_spec(entity: str):
    """The ``EntitySpec`` published under ``entity``, or None (unknown, not exposed, module disabled)."""
    gx = current()
    spec = gx.entities.get(entity)
    if spec is None or not spec.api or not _module_enabled(gx, spec.module):
        return None
    return spec


def spec_permission(entity: str, action: str):
    """Permission for ``action`` on ``entity``; None for an unknown entity (``requires`` answers 404)."""
    spec = api_spec(entity)
    return spec.permission(action) if spec is not None else None
