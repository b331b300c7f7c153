"""Tables of the orders module (names start with ``orders_``): orders (订单) with their lines, shipments
(发货明细) with a quantity per order line, and product reviews per order line.

Lines, shipments and reviews are children: they are not entities of their own and are only ever reached
through an order loaded with the caller's data scope (or joined to the scoped ``Order``)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import (
    Base, CustomFieldsMixin, Money, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin,
    utcnow,
)
from core.models import Contact, Customer, Product, User

Quantity = Numeric(18, 3)
Percent = Numeric(5, 2)
ZERO = Decimal("0")


class Order(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """A sales order: header, stored totals (sums of the rounded line amounts) and its status."""

    __tablename__ = "orders_order"
    __table_args__ = (
        # keyset pages of scoped lists (core.db.OwnedMixin) and the list filters / sorts users choose most
        Index("ix_orders_order_owner_id_id", "owner_id", "id"),
        Index("ix_orders_order_department_id_id", "department_id", "id"),
        Index("ix_orders_order_ordered_on_id", "ordered_on", "id"),
        Index("ix_orders_order_status_id", "status", "id"),
        Index("ix_orders_order_customer_id_id", "customer_id", "id"),
        # re-imports look up external references per customer (helper R's retail importer)
        Index("ix_orders_order_customer_id_external_ref", "customer_id", "external_ref"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts_contract.id"), index=True)
    # unique: an accepted quote converts into one order only (NULLs do not collide on any of our databases)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes_quote.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(20), default="pending_payment")
    ordered_on: Mapped[dt.date] = mapped_column(Date, default=dt.date.today)
    subtotal: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    free_shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    remark: Mapped[str | None] = mapped_column(Text)
    # e.g. the InvoiceNo of an imported retail order; searched and matched on re-import
    external_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # a shipment of the order came back: shown on the exceptions page until someone clears it
    exception_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    # last payment reminder (催付) e-mailed to the contact; a second one within 24 h is refused
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="Order.owner_id")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan")

    def __str__(self):
        return self.number


class OrderLine(Base):
    """One line: amounts computed by ``core.money.line_amounts`` and stored; ``shipped_quantity`` is the
    quantity shipped and not returned (kept by the shipment services in the same transaction)."""

    __tablename__ = "orders_order_line"
    __table_args__ = (Index("ix_orders_order_line_order_id_position", "order_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"))
    position: Mapped[int] = mapped_column(Integer, default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)
    unit: Mapped[str | None] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    tax_rate_percent: Mapped[Decimal] = mapped_column(Percent, default=ZERO)
    net: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    shipped_quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)
    returned_quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()

    @property
    def unshipped_quantity(self) -> Decimal:
        return (self.quantity or ZERO) - (self.shipped_quantity or ZERO)


class Shipment(Base):
    """One delivery (发货) of some quantities of an order's lines."""

    __tablename__ = "orders_shipment"
    __table_args__ = (Index("ix_orders_shipment_order_id_id", "order_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"))
    shipped_on: Mapped[dt.date] = mapped_column(Date, default=dt.date.today)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), default="shipped")  # shipped | delivered | returned
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    returned_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", cascade="all, delete-orphan")


class ShipmentLine(Base):
    """The quantity of one order line in one shipment."""

    __tablename__ = "orders_shipment_line"
    __table_args__ = (UniqueConstraint("shipment_id", "order_line_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("orders_shipment.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("orders_order_line.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=ZERO)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class Review(Base):
    """A customer's review of the product of one order line, with the follow-up it needs."""

    __tablename__ = "orders_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("orders_order_line.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    follow_up_status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order_line: Mapped[OrderLine] = relationship()
