"""The nightly rules job: neglected customers go back to their pool, owners are warned before it happens.

Which pool covers a customer: the active pool of the nearest department at or above the customer's
department; the company-wide pool covers what no department pool does (and customers without a
department). Per pool with rules, owned customers are read in keyset batches of ``BATCH`` ids; each batch
costs a fixed number of set-based queries (customers, last follow-up per customer, claims, existing
reminders, the ``pool_deal_dates`` hook) and is committed on its own, so a million customers never sit in
one transaction or in memory.

Clocks: "days without follow-up" counts from the latest of the last follow-up (``follow_up.happened_at``),
the moment the owner claimed the customer from the pool, and the customer's creation; "days without a deal"
from the latest of the last deal (``pool_deal_dates`` hook: the maximum over every implementing plugin),
the claim and the creation. Without any plugin implementing the hook, a customer's deal clock therefore
runs from its creation (or claim).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import func, insert, or_, select

from core.db import utcnow
from core.models import Customer, Department, FollowUp
from core.runtime import current
from core.web.display import local_timezone
from plugins.pool.models import IMPORTED, NO_DEAL, NO_FOLLOW_UP, Pool, PoolClaim, PoolMembership, PoolReminder
from plugins.pool.services import return_to_pool

log = logging.getLogger("guanxi.pool")
BATCH = 1000


@dataclass
class RunSummary:
    returned: int = 0
    reminded: int = 0
    checked: int = 0
    adopted: int = 0
    pools: list = field(default_factory=list)

    def as_dict(self):
        return {"returned": self.returned, "reminded": self.reminded, "checked": self.checked, "adopted": self.adopted,
                "pools": self.pools}


def apply_pool_rules(session, today: dt.date | None = None, batch: int = BATCH) -> dict:
    """Body of the scheduled job ``pool.apply_rules`` (``session`` is under the job's system scope)."""
    today = today or dt.datetime.now(local_timezone()).date()
    summary = RunSummary()
    for pool, department_ids, includes_none in coverage(session):
        summary.adopted += _adopt_unowned(session, pool, department_ids, includes_none, batch)
        if not pool.has_rules:
            continue
        summary.pools.append(pool.id)
        after = 0
        while True:
            ids_and_owners = _owned_batch(session, department_ids, includes_none, after, batch)
            if not ids_and_owners:
                break
            after = ids_and_owners[-1][0]
            returned, reminded = _apply_to_batch(session, pool, ids_and_owners, today)
            session.commit()
            summary.checked += len(ids_and_owners)
            summary.returned += returned
            summary.reminded += reminded
    log.info("pool rules: %s", summary.as_dict())
    return summary.as_dict()


def coverage(session) -> list[tuple[Pool, list[int], bool]]:
    """``(pool, department ids it covers, covers customers without department)`` per active pool.

    A department belongs to the pool of its nearest department (itself or an ancestor) that has one; the
    first company-wide pool takes the rest. Several pools on one department: the lowest id wins.
    """
    pools = session.execute(select(Pool).where(Pool.active.is_(True)).order_by(Pool.id)).unique().scalars().all()
    by_department: dict[int, Pool] = {}
    company = None
    for pool in pools:
        if pool.department_id is None:
            company = company or pool
        else:
            by_department.setdefault(pool.department_id, pool)
    covered: dict[int, list[int]] = {pool.id: [] for pool in pools}
    for department_id, path in session.execute(select(Department.id, Department.path)):
        ancestors = [int(part) for part in (path or "").split("/") if part]
        owner = next((by_department[d] for d in reversed(ancestors) if d in by_department), company)
        if owner is not None:
            covered[owner.id].append(department_id)
    return [(pool, covered[pool.id], pool is company) for pool in pools]


def _covered(department_ids, includes_none):
    where = [Customer.department_id.in_(department_ids)] if department_ids else []
    if includes_none:
        where.append(Customer.department_id.is_(None))
    return or_(*where) if where else None


def _owned_batch(session, department_ids, includes_none, after, batch):
    covered = _covered(department_ids, includes_none)
    if covered is None:
        return []
    return session.execute(
        select(Customer.id, Customer.owner_id, Customer.created_at)
        .where(Customer.owner_id.is_not(None), Customer.id > after, covered)
        .order_by(Customer.id).limit(batch)).all()


def _adopt_unowned(session, pool, department_ids, includes_none, batch) -> int:
    """Customers without owner and without pool (imported or created without an owner) join the pool that
    covers their department, so "no owner" always means "in a pool" after a nightly run."""
    covered = _covered(department_ids, includes_none)
    if covered is None:
        return 0
    adopted, after = 0, 0
    while True:
        ids = session.execute(
            select(Customer.id).where(Customer.owner_id.is_(None), Customer.id > after, covered,
                                      ~select(PoolMembership.id).where(PoolMembership.customer_id == Customer.id)
                                      .exists())
            .order_by(Customer.id).limit(batch)).scalars().all()
        if not ids:
            return adopted
        after = ids[-1]
        now = utcnow()
        session.execute(insert(PoolMembership), [{"customer_id": cid, "pool_id": pool.id, "reason": IMPORTED,
                                                  "entered_at": now} for cid in ids])
        session.commit()
        adopted += len(ids)


def latest_deal_dates(session, customer_ids) -> dict[int, dt.date]:
    """The latest deal date per customer over every plugin implementing ``pool_deal_dates``."""
    latest: dict[int, dt.date] = {}
    for answer in current().hook.pool_deal_dates(session=session, customer_ids=list(customer_ids)):
        for customer_id, day in (answer or {}).items():
            day = day.date() if isinstance(day, dt.datetime) else day
            if customer_id not in latest or day > latest[customer_id]:
                latest[customer_id] = day
    return latest


def _local_date(moment, zone):
    return None if moment is None else moment.astimezone(zone).date()


def _apply_to_batch(session, pool, rows, today):
    zone = local_timezone()
    ids = [row[0] for row in rows]
    follow_ups = dict(session.execute(
        select(FollowUp.customer_id, func.max(FollowUp.happened_at))
        .where(FollowUp.customer_id.in_(ids)).group_by(FollowUp.customer_id)).all())
    claims = dict(session.execute(select(PoolClaim.customer_id, PoolClaim.claimed_at)
                                  .where(PoolClaim.customer_id.in_(ids))).all())
    deals = latest_deal_dates(session, ids) if pool.days_without_deal is not None else {}

    to_return: dict[str, dict[int, int]] = {NO_FOLLOW_UP: {}, NO_DEAL: {}}
    to_warn: list[tuple[int, int, dt.date, str]] = []
    for customer_id, owner_id, created_at in rows:
        start = max(d for d in (_local_date(created_at, zone), _local_date(claims.get(customer_id), zone))
                    if d is not None)
        due = []
        if pool.days_without_follow_up is not None:
            last = max(start, _local_date(follow_ups.get(customer_id), zone) or start)
            due.append((last + dt.timedelta(days=pool.days_without_follow_up), NO_FOLLOW_UP))
        if pool.days_without_deal is not None:
            last = max(start, deals.get(customer_id) or start)
            due.append((last + dt.timedelta(days=pool.days_without_deal), NO_DEAL))
        due_date, reason = min(due)
        if due_date <= today:
            to_return[reason][customer_id] = owner_id
        elif due_date - dt.timedelta(days=pool.warn_days_before or 0) <= today:
            to_warn.append((customer_id, owner_id, due_date, reason))

    returned = sum(return_to_pool(session, pool, owners, reason, None)
                   for reason, owners in to_return.items() if owners)
    return returned, _remind(session, pool, to_warn)


def _remind(session, pool, to_warn) -> int:
    """One reminder per (customer, due date): existing ones are skipped, so re-runs add nothing; the unique
    constraint stops a duplicate even if two runs overlap (the later one then fails and is retried)."""
    if not to_warn:
        return 0
    existing = set(session.execute(
        select(PoolReminder.customer_id, PoolReminder.due_date)
        .where(PoolReminder.customer_id.in_([w[0] for w in to_warn]))).all())
    fresh = [{"customer_id": cid, "owner_id": owner_id, "pool_id": pool.id, "due_date": due, "reason": reason,
              "created_at": utcnow()} for cid, owner_id, due, reason in to_warn if (cid, due) not in existing]
    if fresh:
        session.execute(insert(PoolReminder), fresh)
    return len(fresh)
