"""Definitions of the custom fields, cached per process and entity, refreshed without a restart.

Every change of a definition writes a new random stamp into the ``setting`` row ``customfields.version`` in
the same transaction. Each request reads that stamp once (one tiny query); a process whose cache holds an
older stamp reloads the definitions, so every app process and worker sees a new field at its next request.
"""
from __future__ import annotations

import threading
import uuid

from flask import g, has_request_context
from sqlalchemy import select

from core.customfields.models import CustomFieldDef, FieldDef
from core.models import Setting

VERSION_KEY = "customfields.version"
_lock = threading.Lock()
_cache: dict[str, tuple[str, tuple[FieldDef, ...]]] = {}  # entity -> (stamp, all definitions)


def current_stamp(session) -> str:
    """The definitions' version stamp (read once per request)."""
    if has_request_context():
        stamp = g.get("_customfields_stamp")
        if stamp is not None:
            return stamp
    row = session.execute(select(Setting.value).where(Setting.key == VERSION_KEY)).scalar_one_or_none()
    stamp = (row or {}).get("stamp", "") if isinstance(row, dict) else ""
    if has_request_context():
        g._customfields_stamp = stamp
    return stamp


def bump_stamp(session):
    """Mark the definitions as changed (part of the caller's transaction)."""
    row = session.execute(select(Setting).where(Setting.key == VERSION_KEY)).scalar_one_or_none()
    stamp = uuid.uuid4().hex
    if row is None:
        session.add(Setting(key=VERSION_KEY, value={"stamp": stamp}))
    else:
        row.value = {"stamp": stamp}
    if has_request_context():
        g.pop("_customfields_stamp", None)
    return stamp


def forget():
    """Drop the process cache (tests; the stamp makes this unnecessary in normal operation)."""
    with _lock:
        _cache.clear()


def all_definitions(session, entity: str) -> tuple[FieldDef, ...]:
    """Every definition of ``entity`` (active or not) ordered by section position, then position."""
    stamp = current_stamp(session)
    cached = _cache.get(entity)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = session.execute(select(CustomFieldDef).where(CustomFieldDef.entity == entity)
                           .order_by(CustomFieldDef.position, CustomFieldDef.id)).scalars().all()
    snapshot = tuple(FieldDef(row) for row in rows)
    with _lock:
        _cache[entity] = (stamp, snapshot)
    return snapshot


def active_definitions(session, entity: str) -> tuple[FieldDef, ...]:
    return tuple(d for d in all_definitions(session, entity) if d.active)


def definition(session, entity: str, key: str, include_inactive=False) -> FieldDef | None:
    for fdef in all_definitions(session, entity):
        if fdef.key == key and (fdef.active or include_inactive):
            return fdef
    return None
