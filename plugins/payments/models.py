"""Tables of the payments module (names start with ``payments_``).

A plan (回款计划) belongs to exactly one contract or one order; a payment (回款) always belongs to a plan and
carries the plan's contract/order too, so the chain finds it even if the plan later goes to the recycle bin.
``PaymentPlan.received_amount`` is stored and always equals the sum of the plan's live payments: one flush
listener (``plugins.payments.totals``) keeps it, whatever path adds, changes or deletes a payment.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import (
    Base, CustomFieldsMixin, Money, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin,
    utcnow,
)

PLAN_STATUSES = ("unpaid", "partial", "paid")


def plan_status(amount: Decimal, received: Decimal) -> str:
    """未回 / 部分回款 / 已回, derived from the amounts only (over-paid counts as paid)."""
    if received <= 0:
        return "unpaid"
    return "paid" if received >= amount else "partial"


def _scoped_indexes(table: str):
    # serve the keyset pages of scoped lists (see core.db.OwnedMixin)
    return (Index(f"ix_{table}_owner_id_id", "owner_id", "id"),
            Index(f"ix_{table}_department_id_id", "department_id", "id"))


class PaymentPlan(OwnedMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    """One instalment due from a customer under a contract or an order (exactly one of the two)."""

    __tablename__ = "payments_plan"
    __table_args__ = (*_scoped_indexes("payments_plan"), Index("ix_payments_plan_due_on_id", "due_on", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_contract.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    instalment: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(10), default="unpaid")

    @property
    def remaining(self) -> Decimal:
        return max((self.amount or Decimal(0)) - (self.received_amount or Decimal(0)), Decimal("0.00"))

    @property
    def parent_entity(self) -> str:
        return "contract" if self.contract_id else "order"

    @property
    def parent_id(self) -> int | None:
        return self.contract_id or self.order_id

    @property
    def display_title(self) -> str:
        """How a plan is named in lists, pickers and links: "#2 进度款"."""
        return f"#{self.instalment} {self.title or ''}".strip()

    def __str__(self):
        return self.display_title


class Payment(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """Money received against a plan; ``method`` "prereceipt" rows come from applying a pre-receipt."""

    __tablename__ = "payments_payment"
    __table_args__ = (*_scoped_indexes("payments_payment"),
                      Index("ix_payments_payment_received_on_id", "received_on", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("payments_plan.id"), index=True)
    # copied from the plan: the chain finds payments of a contract/order in one indexed look-up
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_contract.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20), default="bank_transfer")
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    overpayment: Mapped[bool] = mapped_column(Boolean, default=False)
    overpayment_reason: Mapped[str | None] = mapped_column(String(500))
    prereceipt_id: Mapped[int | None] = mapped_column(ForeignKey("payments_prereceipt.id"), index=True)

    plan: Mapped[PaymentPlan | None] = relationship(foreign_keys=[plan_id])

    @property
    def display_title(self) -> str:
        return f"{self.received_on} {self.amount} {self.currency}"

    def __str__(self):
        return self.display_title


class Prereceipt(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """Money a customer paid in advance (预收款), applied to his plans later; ``applied_amount`` stored."""

    __tablename__ = "payments_prereceipt"
    __table_args__ = (*_scoped_indexes("payments_prereceipt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    applied_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20), default="bank_transfer")
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))

    @property
    def balance(self) -> Decimal:
        return (self.amount or Decimal(0)) - (self.applied_amount or Decimal(0))

    @property
    def display_title(self) -> str:
        return f"{self.received_on} {self.amount} {self.currency}"

    def __str__(self):
        return self.display_title


class PrereceiptApplication(Base):
    """One use of a pre-receipt on a plan; the payment row it created is what counts as received."""

    __tablename__ = "payments_prereceipt_application"
    id: Mapped[int] = mapped_column(primary_key=True)
    prereceipt_id: Mapped[int] = mapped_column(ForeignKey("payments_prereceipt.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payments_plan.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments_payment.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    applied_on: Mapped[dt.date] = mapped_column(Date)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
