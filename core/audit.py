"""Audit trail: who changed which field of which record, when (old -> new)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core.models import AuditEntry


def jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def record(session, entity: str, record_id: int, action: str, user_id, changes=None):
    """Add an audit entry to the session (committed with the change it describes)."""
    session.add(AuditEntry(entity=entity, record_id=record_id, action=action, user_id=user_id,
                           changes=jsonable(changes or {})))


def history(session, spec, record_id, hidden_fields=frozenset(), limit=200):
    """Entries of one record, newest first, without the fields the viewer may not see."""
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.entity == spec.name, AuditEntry.record_id == record_id)
        .order_by(AuditEntry.id.desc()).limit(limit)).scalars().all()
    entries = []
    for row in rows:
        changes = {k: v for k, v in (row.changes or {}).items() if k not in hidden_fields}
        if row.action == "update" and not changes:
            continue
        entries.append((row, changes))
    return entries
