"""Tables of the contracts module (合同 and their delivery plans, 交付计划); names start with ``contracts_``."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, CustomFieldsMixin, OwnedMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin

STATUSES = ("draft", "active", "completed", "terminated", "cancelled")
PLAN_STATUSES = ("planned", "in_progress", "delivered", "cancelled")


class Contract(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """A contract with a customer: amount in its currency, validity dates, terms and a guarded status.

    ``opportunity_id`` and ``project_id`` are plain integers without a foreign key: the opportunities and
    projects modules may be switched off, and a module never adds foreign keys to an optional one. The
    services check them through the caller's scoped session whenever the module is enabled.
    """

    __tablename__ = "contracts_contract"
    __table_args__ = (
        # keyset pages of scoped lists (see core.db.OwnedMixin) and the "expiring soon" page
        Index("ix_contracts_contract_owner_id_id", "owner_id", "id"),
        Index("ix_contracts_contract_department_id_id", "department_id", "id"),
        Index("ix_contracts_contract_ends_on_id", "ends_on", "id"),
        Index("ix_contracts_contract_updated_at_id", "updated_at", "id"),
        Index("ix_contracts_contract_amount_id", "amount", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), nullable=True, index=True)
    # Unique: a quote becomes at most one contract (the database settles two conversions racing).
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes_quote.id"), nullable=True, unique=True)
    opportunity_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The contract this one renews (its follow-on points back here). A plain indexed integer, no foreign key:
    # a self-reference makes MariaDB refuse bulk DELETEs row by row and sends generic record factories into
    # endless recursion; only services.renew sets it, and contracts are only ever soft-deleted.
    previous_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0.00"))
    signed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    starts_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # expiry
    renewal_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # decide on renewal by then
    terms: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")

    def __str__(self):
        return f"{self.number} {self.title}"


class DeliveryPlan(TimestampMixin, VersionedMixin, Base):
    """One milestone of a contract's delivery plan (交付计划): what is due when, and whether it was delivered.

    Not an entity of its own and not owned: it is seen and changed only through its contract, which is
    always loaded through the caller's scope first (so an id alone never opens a milestone).
    """

    __tablename__ = "contracts_delivery_plan"
    __table_args__ = (Index("ix_contracts_delivery_plan_contract_id_position", "contract_id", "position"),
                      Index("ix_contracts_delivery_plan_status_due_on", "status", "due_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts_contract.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)  # contract's currency
    items: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    delivered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    contract: Mapped[Contract] = relationship()

    def overdue(self, today: dt.date) -> bool:
        """Due before ``today`` and neither delivered nor cancelled."""
        return self.status in ("planned", "in_progress") and self.due_on < today
