"""The duplicate finder: groups of records that share a normalised name, phone or e-mail.

Grouping happens in SQL on the indexed key columns (``core.dedupe.keys``) over the caller's scoped query,
narrowed to the records he may edit (a merge needs edit rights on every record). Two statements per reason:
the duplicated keys (``GROUP BY key HAVING COUNT(*) > 1``, capped), then the rows carrying them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from core import services
from core.dedupe import MERGEABLE
from core.i18n import _l
from core.scope import current_scope

MAX_GROUPS = 100  # per reason: the finder is a work list, not a report

REASONS = {
    "name_key": _l("Same name"),
    "phone_key": _l("Same phone"),
    "email_key": _l("Same e-mail"),
}
# Contacts are people: two "张伟" at different customers are different people, so names only count inside
# the same customer.
NAME_GROUPING = {"contact": ("customer_id",)}


@dataclass
class DuplicateGroup:
    """Records sharing one key value: ``reason`` is the key column, ``records`` ordered by id."""

    reason: str
    key: str
    records: list = field(default_factory=list)

    @property
    def reason_label(self) -> str:
        return str(REASONS[self.reason])

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.records]


def _edit_criteria(session, spec):
    services.require(session, spec.permission("edit"))
    criteria = current_scope(session).criteria(spec, "edit")
    return [criteria] if criteria is not None else []


def duplicate_groups(session, spec, max_groups: int = MAX_GROUPS) -> list[DuplicateGroup]:
    """Likely duplicates among the records the caller may edit, by reason (name, phone, e-mail)."""
    if spec.name not in MERGEABLE:
        raise services.NotFound(spec.name)
    where = _edit_criteria(session, spec)
    groups = []
    for reason in REASONS:
        groups += _groups_for(session, spec, reason, where, max_groups)
    return groups


def _groups_for(session, spec, reason, where, max_groups):
    model = spec.model
    key = getattr(model, reason)
    extra = [getattr(model, name) for name in NAME_GROUPING.get(spec.name, ()) if reason == "name_key"]
    duplicated = session.execute(
        select(key, *extra).where(key.is_not(None), *where).group_by(key, *extra)
        .having(func.count(model.id) > 1).order_by(func.count(model.id).desc(), key).limit(max_groups)).all()
    if not duplicated:
        return []
    wanted = {tuple(row) for row in duplicated}
    rows = session.execute(select(model).where(key.in_({row[0] for row in duplicated}), *where)
                           .order_by(key, model.id)).unique().scalars().all()
    by_key = defaultdict(list)
    for record in rows:
        group_key = (getattr(record, reason), *[getattr(record, c.key) for c in extra])
        if group_key in wanted:
            by_key[group_key].append(record)
    return [DuplicateGroup(reason, group_key[0], records) for group_key, records in by_key.items()
            if len(records) > 1]
