"""Fixtures of the customer-pool tests: pools on the standard test org, customers with a follow-up history."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Customer, FollowUp, User
from plugins.pool.models import Pool, PoolMembership, PoolReminder

NOW = dt.datetime.now(dt.timezone.utc)


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def make_pool(gx):
    def make(name, department=None, **rules):
        with gx.system_session("test: make pool") as session:
            pool = Pool(name=name, department_id=department.id if department is not None else None,
                        warn_days_before=rules.pop("warn_days_before", 3), active=rules.pop("active", True),
                        **rules)
            session.add(pool)
            session.commit()
            return pool.id
    return make


@pytest.fixture
def make_customer(gx):
    """``make_customer(name, owner, created_days_ago=100, follow_up_days_ago=None, pool_id=None)``: a customer
    owned by ``owner`` (or sitting in ``pool_id`` without owner), with one follow-up if asked."""
    def make(name, owner=None, created_days_ago=100, follow_up_days_ago=None, pool_id=None, department=None):
        with gx.system_session("test: make customer") as session:
            customer = Customer(name=name, owner_id=owner.id if owner else None,
                                department_id=(owner.department_id if owner else
                                               department.id if department is not None else None),
                                created_at=days_ago(created_days_ago), industry="制造业", province="江苏",
                                city="苏州", notes=f"secret note of {name}")
            session.add(customer)
            session.flush()
            if follow_up_days_ago is not None:
                session.add(FollowUp(customer_id=customer.id, content="called", owner_id=customer.owner_id,
                                     department_id=customer.department_id,
                                     happened_at=days_ago(follow_up_days_ago)))
            if pool_id is not None:
                session.add(PoolMembership(customer_id=customer.id, pool_id=pool_id, reason="imported"))
            session.commit()
            return customer.id
    return make


@pytest.fixture
def read(gx):
    """Fresh reads under a system scope (what the database holds, not what a page shows)."""
    class Reader:
        def customer(self, customer_id):
            with gx.system_session("test: read customer") as session:
                return session.execute(select(Customer).where(Customer.id == customer_id)).unique().scalar_one()

        def membership(self, customer_id):
            with gx.system_session("test: read membership") as session:
                return session.execute(select(PoolMembership).where(PoolMembership.customer_id == customer_id)
                                       ).scalar_one_or_none()

        def reminders(self, customer_id=None):
            with gx.system_session("test: read reminders") as session:
                stmt = select(PoolReminder).order_by(PoolReminder.id)
                if customer_id is not None:
                    stmt = stmt.where(PoolReminder.customer_id == customer_id)
                return session.execute(stmt).scalars().all()

        def audit(self, customer_id):
            with gx.system_session("test: read audit") as session:
                return [(e.action, e.user_id, e.changes) for e in session.execute(
                    select(AuditEntry).where(AuditEntry.entity == "customer", AuditEntry.record_id == customer_id)
                    .order_by(AuditEntry.id)).scalars()]

        def set_language(self, user, language):
            with gx.system_session("test: language") as session:
                session.execute(select(User).where(User.id == user.id)).scalar_one().language = language
                session.commit()
    return Reader()


