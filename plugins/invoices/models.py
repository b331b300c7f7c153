"""Tables of the invoices module (names start with ``invoices_``): invoice requests (开票申请) and invoice
records (开票记录).

Both point at exactly one source — a contract, an order or a payment — with real foreign keys: those modules
are upstream (``REQUIRES = ("payments",)`` pulls in orders, contracts and quotes). Customer, currency and
owner are copied from the source when the record is saved (``services``), so the data scope of an invoice
follows the deal it belongs to.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import (
    Base, CustomFieldsMixin, Money, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin,
)

SOURCE_COLUMNS = ("contract_id", "order_id", "payment_id")


class SourceMixin:
    """The record an invoice belongs to (exactly one of three) and what is copied from it."""

    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_contract.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments_payment.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))  # indexed with id, per model
    currency: Mapped[str] = mapped_column(String(3))
    # 普通发票 (normal) / 增值税专用发票 (special)
    type: Mapped[str] = mapped_column(String(10), default="normal")
    title: Mapped[str] = mapped_column(String(200))  # 抬头: the buyer's name printed on the invoice
    tax_number: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码 / 纳税人识别号
    bank: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(60))
    address_phone: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def source(self) -> tuple[str, int] | None:
        """("contract" | "order" | "payment", id) of the source."""
        for column in SOURCE_COLUMNS:
            if getattr(self, column) is not None:
                return column.removesuffix("_id"), getattr(self, column)
        return None


class InvoiceRequest(SourceMixin, OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin,
                     VersionedMixin, Base):
    """A salesperson asks finance to issue an invoice: requested → approved | rejected; approved → issued
    once an invoice record is made from it."""

    __tablename__ = "invoices_request"
    __table_args__ = (
        Index("ix_invoices_request_owner_id_id", "owner_id", "id"),
        Index("ix_invoices_request_department_id_id", "department_id", "id"),
        Index("ix_invoices_request_customer_id_id", "customer_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def label(self) -> str:
        return f"#{self.id} {self.title}"

    def __str__(self):
        return self.label


class Invoice(SourceMixin, OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin,
              Base):
    """An invoice issued by the tax system (its number is typed in here): issued, or void with a reason.
    Only issued invoices count as "invoiced"."""

    __tablename__ = "invoices_invoice"
    __table_args__ = (
        # the tax system numbers each invoice type separately
        UniqueConstraint("type", "number", name="uq_invoices_invoice_type_number"),
        Index("ix_invoices_invoice_owner_id_id", "owner_id", "id"),
        Index("ix_invoices_invoice_department_id_id", "department_id", "id"),
        Index("ix_invoices_invoice_customer_id_id", "customer_id", "id"),
        Index("ix_invoices_invoice_issued_on_id", "issued_on", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("invoices_request.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)  # tax included (价税合计)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("13.00"))  # percent
    tax_amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), default="issued", index=True)
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Invoiced beyond what the source still had to invoice: allowed only when ticked, with a reason (audited).
    over_invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    over_invoice_reason: Mapped[str | None] = mapped_column(Text)

    def __str__(self):
        return self.number
