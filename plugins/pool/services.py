"""Business rules of the customer pool: which pools a user sees, listing, claim and release.

Pool customers have no owner, so core's data scope hides them from salespeople. Reading and claiming them
is the one deliberate exception to "request code reads through the scoped session": ``_pool_session()``
opens an explicit, logged system session, and every function here that uses it first applies the pool
visibility rule (``visibility_filter``) and reads only the pool columns (never a customer's other fields).
Tests in ``tests/plugins/pool`` check a salesperson of another department can neither see nor claim.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from core import audit, signals
from core.db import utcnow
from core.i18n import _, _l
from core.models import Contact, Customer, Department, User
from core.runtime import current
from plugins.pool.models import (
    IMPORTED, NO_DEAL, NO_FOLLOW_UP, RELEASED, Pool, PoolClaim, PoolMembership, PoolReminder,
)

PAGE_SIZE = 50
REASON_LABELS = {RELEASED: _l("Released by the owner"), NO_FOLLOW_UP: _l("Rule: no follow-up"),
                 NO_DEAL: _l("Rule: no deal"), IMPORTED: _l("Imported")}


class PoolError(Exception):
    """A refused pool operation; ``str(error)`` is the translated message for the user."""


class NotVisible(PoolError):
    """The customer is in no pool the user may see (answered like a missing record)."""


# ---------------------------------------------------------------------------------------------- visibility

def department_ancestors(path: str | None) -> list[int]:
    """Ids on a materialised path ``/1/4/9/`` -> ``[1, 4, 9]``: the department and every parent."""
    return [int(part) for part in (path or "").split("/") if part]


def visibility_filter(session, user, manages_all: bool):
    """Pools ``user`` may see: company-wide ones, and those of his department or any department above it
    (a department pool serves its whole subtree). Pool managers (boss/admin) see every pool."""
    if manages_all:
        return Pool.active.is_(True)
    path = session.execute(select(Department.path).where(Department.id == user.department_id)).scalar()
    return Pool.active.is_(True) & or_(Pool.department_id.is_(None),
                                       Pool.department_id.in_(department_ancestors(path)))


def visible_pools(session, user, manages_all=False) -> list[Pool]:
    return list(session.execute(select(Pool).where(visibility_filter(session, user, manages_all))
                                .order_by(Pool.department_id.is_not(None), Pool.name, Pool.id)).scalars())


def visible_pool(session, user, pool_id, manages_all=False) -> Pool | None:
    return session.execute(select(Pool).where(Pool.id == pool_id, visibility_filter(session, user, manages_all))
                           ).unique().scalar_one_or_none()


# ---------------------------------------------------------------------------------------------- listing

@dataclass
class PoolRow:
    customer_id: int
    name: str
    industry: str | None
    region: str
    entered_at: dt.datetime
    reason: str
    previous_owner: str | None
    membership_id: int


def _pool_session(reason: str):
    """The explicit system session of the pool exception (see the module docstring)."""
    return current().system_session(f"pool: {reason}")


def pool_customers(pool: Pool, *, search: str = "", before: int | None = None, hidden=frozenset(),
                   limit: int = PAGE_SIZE) -> tuple[list[PoolRow], int | None]:
    """One page of ``pool``'s customers, newest entries first, and the cursor of the next page.

    The caller has checked ``pool`` is visible to the user (``visible_pool``). Only these columns leave the
    system session; ``hidden`` are customer fields the user may not see (restricted fields).
    """
    previous = aliased(User)
    stmt = (select(Customer.id, Customer.name, Customer.industry, Customer.province, Customer.city,
                   PoolMembership.entered_at, PoolMembership.reason, previous.name, PoolMembership.id)
            .join(PoolMembership, PoolMembership.customer_id == Customer.id)
            .outerjoin(previous, previous.id == PoolMembership.previous_owner_id)
            .where(PoolMembership.pool_id == pool.id, Customer.owner_id.is_(None))
            .order_by(PoolMembership.id.desc()).limit(limit + 1))
    if search:
        stmt = stmt.where(Customer.name.contains(search, autoescape=True))
    if before:
        stmt = stmt.where(PoolMembership.id < before)
    with _pool_session(f"list pool {pool.id}") as session:
        rows = session.execute(stmt).all()
    page = [PoolRow(customer_id=r[0], name=r[1],
                    industry=None if "industry" in hidden else r[2],
                    region=" ".join(part for part in (r[3], r[4]) if part and "province" not in hidden),
                    entered_at=r[5], reason=r[6], previous_owner=r[7], membership_id=r[8])
            for r in rows[:limit]]
    return page, (page[-1].membership_id if len(rows) > limit else None)


def pool_sizes(pools) -> dict[int, int]:
    """Customers waiting in each pool (one grouped query)."""
    ids = [p.id for p in pools]
    if not ids:
        return {}
    with _pool_session("count pool customers") as session:
        counts = session.execute(
            select(PoolMembership.pool_id, func.count(PoolMembership.id))
            .join(Customer, Customer.id == PoolMembership.customer_id)
            .where(PoolMembership.pool_id.in_(ids), Customer.owner_id.is_(None))
            .group_by(PoolMembership.pool_id)).all()
    return {pool_id: 0 for pool_id in ids} | dict(counts)


# ---------------------------------------------------------------------------------------------- claim

def owned_count(session, user_id: int) -> int:
    return session.execute(select(func.count(Customer.id)).where(Customer.owner_id == user_id)).scalar_one()


def claim(user, customer_id: int, manages_all=False, assignee=None) -> str:
    """Make ``user`` (or ``assignee``, a team member a manager gives it to) the owner of a pool customer;
    returns the customer's name. The pool must be visible to ``user``; capacity counts the new owner's
    customers. The caller has checked the manager may assign to ``assignee``.

    Exactly one of several users claiming the same customer at once wins: the owner is set by a conditional
    ``UPDATE ... WHERE owner_id IS NULL`` and a loser sees zero rows changed. Capacity is checked first
    (two simultaneous claims for the same owner may exceed it by one; acceptable for a soft sales rule).
    """
    owner = assignee or user
    with _pool_session(f"user {user.id} claims customer {customer_id} for user {owner.id}") as session:
        found = session.execute(
            select(PoolMembership, Pool, Customer.name)
            .join(Pool, Pool.id == PoolMembership.pool_id)
            .join(Customer, Customer.id == PoolMembership.customer_id)
            .where(PoolMembership.customer_id == customer_id,
                   visibility_filter(session, user, manages_all))).first()
        if found is None:
            raise NotVisible(_("This customer is not in a pool you may claim from."))
        membership, pool, name = found
        _check_capacity(session, pool, owner, for_self=assignee is None)
        won = session.execute(
            update(Customer).where(Customer.id == customer_id, Customer.owner_id.is_(None))
            .values(owner_id=owner.id, department_id=owner.department_id, version=Customer.version + 1)
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            session.rollback()
            raise PoolError(_("Someone else claimed “%(name)s” a moment ago.", name=name))
        _move_contacts(session, [customer_id], owner.id, owner.department_id)
        session.execute(delete(PoolMembership).where(PoolMembership.customer_id == customer_id))
        session.execute(delete(PoolClaim).where(PoolClaim.customer_id == customer_id))
        session.add(PoolClaim(customer_id=customer_id, user_id=owner.id, claimed_at=utcnow()))
        audit.record(session, "customer", customer_id, "pool_claim" if assignee is None else "pool_assign",
                     user.id, {"owner_id": [None, owner.id], "pool": [pool.name, None]})
        session.commit()
    signals.owner_transferred.send("customer", record_ids=[customer_id], user_id=user.id, new_owner_id=owner.id)
    return name


def _check_capacity(session, pool, owner, for_self: bool):
    if pool.capacity is None:
        return
    owned = owned_count(session, owner.id)
    if owned + 1 <= pool.capacity:
        return
    if for_self:
        raise PoolError(_("You already own %(owned)d customers; the pool “%(pool)s” allows at most "
                          "%(capacity)d per salesperson. Release a customer first.",
                          owned=owned, pool=pool.name, capacity=pool.capacity))
    raise PoolError(_("%(user)s already owns %(owned)d customers; the pool “%(pool)s” allows at most "
                      "%(capacity)d per salesperson.", user=owner.name, owned=owned, pool=pool.name,
                      capacity=pool.capacity))


def forget_memberships(customer_ids) -> None:
    """Customers that got an owner outside the pool (core's transfer) leave their pool."""
    with _pool_session("customers transferred: leave the pool") as session:
        session.execute(delete(PoolMembership).where(
            PoolMembership.customer_id.in_(select(Customer.id).where(Customer.id.in_(customer_ids),
                                                                     Customer.owner_id.is_not(None)))))
        session.commit()


def _move_contacts(session, customer_ids, owner_id, department_id):
    """A customer's contacts follow it (as core's transfer does), so nobody keeps contacts of a customer he
    no longer owns, and the claimer sees them."""
    session.execute(update(Contact).where(Contact.customer_id.in_(customer_ids))
                    .values(owner_id=owner_id, department_id=department_id, version=Contact.version + 1)
                    .execution_options(synchronize_session=False, include_deleted=True))


# ---------------------------------------------------------------------------------------------- release

def return_to_pool(session, pool: Pool, owners: dict[int, int], reason: str, actor_id: int | None) -> int:
    """Send customers (``{customer_id: owner_id as just read}``) to ``pool``; used by release and the job.

    The session is under a system scope; the caller commits. Set-based: a fixed number of statements
    whatever the number of customers, plus one audit entry each. The customers are owned, so a membership
    they still have is stale (an owner was given outside the pool) and is replaced.
    """
    moved = list(owners)
    if not moved:
        return 0
    session.execute(update(Customer).where(Customer.id.in_(moved), Customer.owner_id.is_not(None))
                    .values(owner_id=None, department_id=pool.department_id, version=Customer.version + 1)
                    .execution_options(synchronize_session=False))
    session.execute(delete(PoolMembership).where(PoolMembership.customer_id.in_(moved)))
    _move_contacts(session, moved, None, pool.department_id)
    session.execute(delete(PoolClaim).where(PoolClaim.customer_id.in_(moved)))
    session.execute(delete(PoolReminder).where(PoolReminder.customer_id.in_(moved),
                                               PoolReminder.dismissed_at.is_(None)))
    now = utcnow()
    session.execute(insert(PoolMembership), [
        {"customer_id": cid, "pool_id": pool.id, "entered_at": now, "reason": reason,
         "previous_owner_id": owners[cid]} for cid in moved])
    for cid in moved:
        audit.record(session, "customer", cid, "pool_return" if actor_id is None else "pool_release", actor_id,
                     {"owner_id": [owners[cid], None], "pool": [None, pool.name], "reason": reason})
    return len(moved)


def release(session, user, customers, pool_id, manages_all=False) -> int:
    """Release ``customers`` (already loaded through the user's scope with the "edit" check) to a pool
    the user may see. All or nothing."""
    pool = visible_pool(session, user, pool_id, manages_all)
    if pool is None:
        raise PoolError(_("Choose a pool you may release customers to."))
    owners = {c.id: c.owner_id for c in customers if c.owner_id is not None}
    if not owners:
        raise PoolError(_("None of the selected customers has an owner to release."))
    with _pool_session(f"user {user.id} releases {len(owners)} customer(s) to pool {pool.id}") as system:
        pool = system.execute(select(Pool).where(Pool.id == pool.id)).unique().scalar_one()
        moved = return_to_pool(system, pool, owners, RELEASED, user.id)
        system.commit()
    return moved


# ---------------------------------------------------------------------------------------------- reminders

def reminders_of(session, user_id: int, limit: int | None = None):
    """The user's open reminders whose customer he still owns: ``[(reminder, customer_name, pool_name)]``.

    ``session`` is the request's scoped session: a customer he no longer sees drops out by itself.
    """
    stmt = (select(PoolReminder, Customer.name, Pool.name)
            .join(Customer, Customer.id == PoolReminder.customer_id)
            .join(Pool, Pool.id == PoolReminder.pool_id)
            .where(PoolReminder.owner_id == user_id, PoolReminder.dismissed_at.is_(None),
                   Customer.owner_id == user_id)
            .order_by(PoolReminder.due_date, PoolReminder.id))
    if limit:
        stmt = stmt.limit(limit)
    return session.execute(stmt).all()


def dismiss_reminder(session, user_id: int, reminder_id: int) -> bool:
    changed = session.execute(
        update(PoolReminder).where(PoolReminder.id == reminder_id, PoolReminder.owner_id == user_id,
                                   PoolReminder.dismissed_at.is_(None))
        .values(dismissed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    session.commit()
    return changed == 1


# ---------------------------------------------------------------------------------------------- pools

def department_choices(session) -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in session.execute(select(Department).order_by(Department.path)).scalars()]


def save_pool(session, data: dict, pool: Pool | None = None, user_id=None) -> Pool:
    """Create or change a pool from validated data (``schemas.PoolSchema``), audited."""
    created = pool is None
    pool = pool or Pool()
    changes = {key: [getattr(pool, key, None) if not created else None, value] for key, value in data.items()
               if created or getattr(pool, key) != value}
    for key, value in data.items():
        setattr(pool, key, value)
    session.add(pool)
    session.flush()
    if changes:
        audit.record(session, "pool", pool.id, "create" if created else "update", user_id, changes)
    session.commit()
    return pool
