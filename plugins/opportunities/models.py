"""Tables of the opportunities module (销售机会): configurable stages, opportunities and their stage history."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import (
    Base, CustomFieldsMixin, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow,
)

STAGE_KINDS = ("open", "won", "lost")


class OpportunityStage(Base):
    """A step of the sales pipeline. ``kind`` says whether reaching it closes the deal (won/lost).

    Configuration, not owned data: every user sees every stage; only ``opportunities.stage.manage`` edits.
    ``key`` never changes (stock stages are found by it); labels are kept per language.
    """

    __tablename__ = "opportunities_stage"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label_zh: Mapped[str] = mapped_column(String(60))
    label_en: Mapped[str] = mapped_column(String(60))
    probability: Mapped[int] = mapped_column(Integer, default=0)  # percent, 0..100
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10), default="open")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


class Opportunity(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """A possible deal with a customer: how much, by when, how likely (its stage's probability)."""

    __tablename__ = "opportunities_opportunity"
    __table_args__ = (
        Index("ix_opportunities_opportunity_owner_id_id", "owner_id", "id"),
        Index("ix_opportunities_opportunity_department_id_id", "department_id", "id"),
        # the board and the forecast read by stage, then by close date
        Index("ix_opportunities_opportunity_stage_id_expected_close", "stage_id", "expected_close"),
        Index("ix_opportunities_opportunity_expected_close_id", "expected_close", "id"),
        Index("ix_opportunities_opportunity_amount_id", "amount", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), nullable=True, index=True)
    # Nullable in the database so that rows written without the services (bulk tools) stay valid; the
    # services always set it (first active open stage by default), and pages treat NULL as that stage.
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities_stage.id"), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    expected_close: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str | None] = mapped_column(String(50), nullable=True)
    competitors: Mapped[str | None] = mapped_column(Text, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    close_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The lead this opportunity was converted from (leads is another module: no foreign key).
    lead_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    def __str__(self):
        return self.name


class OpportunityStageHistory(Base):
    """One stage change of an opportunity: from where, to where, by whom, when."""

    __tablename__ = "opportunities_stage_history"
    __table_args__ = (Index("ix_opportunities_stage_history_opportunity_id_id", "opportunity_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities_opportunity.id"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities_stage.id"), nullable=True)
    to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities_stage.id"), nullable=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    opportunity: Mapped[Opportunity] = relationship()
