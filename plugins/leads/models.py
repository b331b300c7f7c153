"""Tables of the leads module (all named ``leads_...``): the leads themselves, the embeddable web forms that
capture them, the per-department round-robin pointer and the web forms' rate-limit log."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import (
    Base, CustomFieldsMixin, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow,
)

STATUSES = ("new", "contacted", "qualified", "unqualified", "converted")
SOURCES = ("website", "web_form", "referral", "exhibition", "advertising", "cold_call", "social_media",
           "import", "other")
RATINGS = ("hot", "warm", "cold")


class Lead(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """潜在客户: a person (and maybe his company) who might buy, before he becomes a customer.

    Once converted, ``converted_*`` point at the customer, contact and (maybe) opportunity made from it and
    the lead is read-only (``services.refuse_edit_of_converted``).
    """

    __tablename__ = "leads_lead"
    __table_args__ = (
        # serve the keyset pages of scoped lists (see core.db.OwnedMixin)
        Index("ix_leads_lead_owner_id_id", "owner_id", "id"),
        Index("ix_leads_lead_department_id_id", "department_id", "id"),
        Index("ix_leads_lead_status_id", "status", "id"),
        Index("ix_leads_lead_created_at_id", "created_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # the person
    company: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    wechat: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="new")
    rating: Mapped[str | None] = mapped_column(String(10))
    qualification_notes: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    web_form_id: Mapped[int | None] = mapped_column(ForeignKey("leads_web_form.id"))
    converted_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    converted_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    # the opportunities module is optional: a plain id, no foreign key into another module's table
    converted_opportunity_id: Mapped[int | None] = mapped_column(Integer)
    converted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    converted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __str__(self):
        return f"{self.name} ({self.company})" if self.company else self.name


class WebForm(TimestampMixin, Base):
    """An embeddable web-to-lead form. Its random ``token`` is the public URL; leads it captures go round-robin
    to the sales staff of ``department_id`` (its subtree), else to ``owner_id``."""

    __tablename__ = "leads_web_form"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source: Mapped[str] = mapped_column(String(30), default="web_form")
    thank_you: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoundRobinPointer(Base):
    """Who in a department (subtree) got the last lead handed out round-robin. Locked while the next one is
    picked, and versioned, so two simultaneous picks never give the same turn twice."""

    __tablename__ = "leads_round_robin"
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True)
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class WebFormAttempt(Base):
    """One submission of a public web form, kept a short while for the per-address and per-form rate limits."""

    __tablename__ = "leads_web_form_attempt"
    __table_args__ = (
        Index("ix_leads_web_form_attempt_ip_at", "ip", "at"),
        Index("ix_leads_web_form_attempt_form_id_at", "form_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("leads_web_form.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
