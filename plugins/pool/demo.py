"""Demo customer pools (``demo_data`` hook): a company-wide pool and an East department pool with return
rules, ~20 owner-less customers sitting in them (released, returned by the rules or imported), and the
reminders the nightly job would give salespeople whose customers are about to go back."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from core import demo as core_demo
from core.models import FollowUp
from plugins.pool.models import IMPORTED, NO_FOLLOW_UP, RELEASED, Pool, PoolMembership, PoolReminder
from plugins.pool.rules import coverage

# name, department (None: company-wide), days without follow-up, days without a deal, warn days, capacity,
# customers sitting in it
POOLS = [
    ("公司公海 Company pool", None, 90, None, 7, None, 12),
    ("华东公海 East pool", "east", 90, 365, 7, 150, 8),
]
REMINDERS_PER_POOL = 3


def generate(session, users, customers, seed, today):
    rng = random.Random(f"pool-{seed}")
    staff = core_demo.sales_staff(users)
    manager = users.get("manager_east")
    if not staff:
        return
    pools = []
    for name, department, days_follow_up, days_deal, warn, capacity, size in POOLS:
        department_id = manager.department_id if department == "east" and manager else None
        pools.append((Pool(name=name, department_id=department_id, days_without_follow_up=days_follow_up,
                           days_without_deal=days_deal, warn_days_before=warn, capacity=capacity, active=True),
                      size))
    session.add_all([pool for pool, _size in pools])
    session.flush()
    memberships = []
    for pool, size in pools:
        before = [user for user in staff if pool.department_id is None or user.department_id == pool.department_id]
        # owner-less from the start: customer and contacts carry the pool's department, as a release leaves them
        sitting = core_demo.make_customers(session, rng, size, today, lambda _rng: (None, pool.department_id),
                                           follow_ups=False)
        for customer, _contacts in sitting:
            reason = rng.choice([RELEASED, RELEASED, NO_FOLLOW_UP, IMPORTED])
            memberships.append(PoolMembership(
                customer_id=customer.id, pool_id=pool.id, reason=reason,
                entered_at=core_demo.random_moment(rng, today, 60),
                previous_owner_id=None if reason == IMPORTED else rng.choice(before or staff).id))
    session.add_all(memberships)
    session.flush()
    session.add_all(_reminders(session, staff, customers, today))
    session.flush()


def _reminders(session, staff, customers, today):
    """Per pool with a follow-up rule, the owned customers it covers that will soonest go back (last
    follow-up + the rule's days, still ahead): the reminder the nightly job gives their owner in time."""
    staff_ids = {user.id for user in staff}
    owned = {customer.id: customer for customer, _contacts in customers if customer.owner_id in staff_ids}
    last = session.execute(select(FollowUp.customer_id, func.max(FollowUp.happened_at))
                           .where(FollowUp.customer_id.in_(list(owned))).group_by(FollowUp.customer_id)).all()
    rows = []
    for pool, department_ids, _includes_none in coverage(session):
        if pool.days_without_follow_up is None:
            continue
        covered = set(department_ids)
        due = sorted((_day(moment) + dt.timedelta(days=pool.days_without_follow_up), customer_id)
                     for customer_id, moment in last
                     if moment is not None and owned[customer_id].department_id in covered)
        for day, customer_id in [pair for pair in due if pair[0] > today][:REMINDERS_PER_POOL]:
            rows.append(PoolReminder(customer_id=customer_id, owner_id=owned[customer_id].owner_id, pool_id=pool.id,
                                     due_date=day, reason=NO_FOLLOW_UP))
    return rows


def _day(moment) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment
