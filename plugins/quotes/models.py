"""Tables of the quotes module (names start with ``quotes_``, as the host requires).

A quote's amounts are stored: each line keeps its net, tax and gross (``core.money.line_amounts``) and the
quote keeps the sums of its lines, written by ``services`` in the same transaction that changes the lines.
``opportunity_id`` and ``project_id`` are plain integers without a foreign key: those modules may be
disabled (their tables may not even exist); the services check them through the scoped session when the
modules are enabled.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import (
    Base, CustomFieldsMixin, Money, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin,
    utcnow,
)
from core.models import Contact, Customer, Product

STATUSES = ("draft", "sent", "accepted", "rejected", "expired")


class Quote(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """A quote (报价单) to a customer. Revisions share the number: revision 2 of QT-2026-0001 is shown as
    QT-2026-0001-R2, points at revision 1 through ``parent_id`` and makes it ``superseded`` (read-only)."""

    __tablename__ = "quotes_quote"
    __table_args__ = (
        UniqueConstraint("number", "revision"),
        # keyset pages of scoped lists (see core.db.OwnedMixin) and the expiry job's scan
        Index("ix_quotes_quote_owner_id_id", "owner_id", "id"),
        Index("ix_quotes_quote_department_id_id", "department_id", "id"),
        Index("ix_quotes_quote_status_valid_until", "status", "valid_until"),
        Index("ix_quotes_quote_updated_at_id", "updated_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The previous revision. No foreign key on purpose: a self-reference makes MariaDB refuse to empty the
    # table row by row (and quotes are only ever soft-deleted); revisions are tied by ``number`` anyway.
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    project_id: Mapped[int | None] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    terms: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    # selectin: a page of quotes (API list, detail) loads all their lines in one more query, never one per
    # quote; list pages that do not show lines make it lazy (core.services.shown_only_loading).
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", order_by="QuoteLine.position", cascade="all, delete-orphan", lazy="selectin")
    parent: Mapped[Quote | None] = relationship(remote_side="Quote.id", foreign_keys="Quote.parent_id",
                                                primaryjoin="Quote.parent_id == Quote.id")
    # plain lazy: pages show the customer through core's lookups (one query per page), the PDF loads it
    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()

    @property
    def display_number(self) -> str:
        """QT-2026-0001, or QT-2026-0001-R2 from the second revision on."""
        return self.number if (self.revision or 1) <= 1 else f"{self.number}-R{self.revision}"

    @property
    def editable(self) -> bool:
        """Only the latest revision of a draft is changed; every other quote is read-only."""
        return self.status == "draft" and not self.superseded

    def __str__(self):
        return f"{self.display_number} {self.title}"


class QuoteLine(OwnedMixin, TimestampMixin, VersionedMixin, Base):
    """One line of a quote. Owner and department follow the quote's (services keep them equal), so the data
    scope hides the lines of a quote one may not see, whatever query reaches them."""

    __tablename__ = "quotes_quote_line"
    __table_args__ = (Index("ix_quotes_quote_line_quote_id_position", "quote_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes_quote.id"))
    position: Mapped[int] = mapped_column(Integer, default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str | None] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    net: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    gross: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    quote: Mapped[Quote] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()


class QuoteConversion(Base):
    """What an accepted quote became (a contract, an order...), recorded by the module that converted it
    (``services.mark_converted``). Read only through the (scoped) quote it belongs to."""

    __tablename__ = "quotes_conversion"
    __table_args__ = (UniqueConstraint("quote_id", "target_entity", "target_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes_quote.id"), index=True)
    target_entity: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
