"""Tables of the customer pool (公海). Names start with ``pool_``, as the host requires.

A customer is in the pool when it has a ``PoolMembership`` and no owner (``customer.owner_id IS NULL``).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TimestampMixin, UTCDateTime, utcnow
from core.models import Department

# why a customer entered the pool (PoolMembership.reason, PoolReminder.reason)
RELEASED, NO_FOLLOW_UP, NO_DEAL, IMPORTED = "released", "no_follow_up", "no_deal", "imported"
REASONS = (RELEASED, NO_FOLLOW_UP, NO_DEAL, IMPORTED)


class Pool(TimestampMixin, Base):
    """A pool of owner-less customers with its return rules.

    ``department_id`` NULL: company-wide; otherwise the pool serves that department's subtree. ``None`` in a
    rule column switches the rule off (no return after N days without follow-up / M days without a deal;
    no capacity limit).
    """

    __tablename__ = "pool_pool"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    days_without_follow_up: Mapped[int | None] = mapped_column(Integer)
    days_without_deal: Mapped[int | None] = mapped_column(Integer)
    warn_days_before: Mapped[int] = mapped_column(Integer, default=3)
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department | None] = relationship(lazy="joined")

    @property
    def has_rules(self) -> bool:
        return self.days_without_follow_up is not None or self.days_without_deal is not None

    def __str__(self):
        return self.name


class PoolMembership(Base):
    """A customer sitting in a pool: since when, why, and who owned it before."""

    __tablename__ = "pool_membership"
    __table_args__ = (Index("ix_pool_membership_pool_id_entered_at", "pool_id", "entered_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), unique=True)  # in one pool at most
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool_pool.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(20), default=RELEASED)
    previous_owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class PoolClaim(Base):
    """When the current owner took the customer from the pool: the rules' clock restarts there, otherwise a
    customer claimed after months without follow-up would go straight back at the next nightly run."""

    __tablename__ = "pool_claim"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PoolReminder(Base):
    """"This customer returns to the pool on ``due_date``": shown to its owner until dismissed.

    Unique on (customer, due date), so the nightly job can run any number of times.
    """

    __tablename__ = "pool_reminder"
    __table_args__ = (
        UniqueConstraint("customer_id", "due_date", name="uq_pool_reminder_customer_id_due_date"),
        Index("ix_pool_reminder_owner_id_dismissed_at", "owner_id", "dismissed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool_pool.id"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20), default=NO_FOLLOW_UP)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
