"""Core tables: organisation and access (users, departments, roles), sessions and tokens, the core
entities (customers, contacts, products, follow-ups), attachments, tags, audit trail, module state."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean, Column, Date, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import (
    Base, CustomFieldsMixin, JSONType, Money, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime,
    VersionedMixin, utcnow,
)
from core.dedupe.keys import computed as dedupe_key  # normalised duplicate keys (core.dedupe)

# ---------------------------------------------------------------- organisation and access

user_role = Table(
    "user_role", Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)


class Department(TimestampMixin, Base):
    """A node of the company tree. ``path`` is the materialised path ``/1/4/9/`` used for team scope."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", use_alter=True, name="fk_department_manager_id_user_account"))

    parent: Mapped[Department | None] = relationship(remote_side=[id])

    def __repr__(self):
        return f"<Department {self.id} {self.path}>"


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    language: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    roles: Mapped[list[Role]] = relationship(secondary=user_role, lazy="selectin")

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return str(self.id)

    def __repr__(self):
        return f"<User {self.login}>"


class Role(Base):
    __tablename__ = "role"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(255), default="")
    is_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin")


class RoleGrant(Base):
    """Role ``role`` holds ``permission`` with data scope ``level`` (none < own < team < all)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("role_id", "permission"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(8), default="all")
    role: Mapped[Role] = relationship(back_populates="grants")


class UserSession(Base):
    """Server-side login session; the cookie only carries its random id (hashed here)."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class LoginThrottle(Base):
    """Failed logins per account and per address, shared by every worker (progressive delay)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """Personal API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ModuleState(Base):
    """An administrator's enable/disable choice for an installed module (data is never dropped)."""

    __tablename__ = "module_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Setting(Base):
    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict] = mapped_column(JSONType, default=dict)


# ---------------------------------------------------------------- core entities

customer_tag = Table(
    "customer_tag", Base.metadata,
    Column("customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    """A customer "impression" (印象) tag."""

    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)

    def __str__(self):  # schemas dump a customer's tags as their names
        return self.name


class Customer(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_owner_id_id", "owner_id", "id"),
        Index("ix_customer_department_id_id", "department_id", "id"),
        Index("ix_customer_name_id", "name", "id"),
        Index("ix_customer_updated_at_id", "updated_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="company")  # company | individual
    industry: Mapped[str | None] = mapped_column(String(50))
    level: Mapped[str | None] = mapped_column(String(20))  # A/B/C/D
    source: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="potential")  # potential|intention|closed
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    website: Mapped[str | None] = mapped_column(String(255))
    credit_rating: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    # duplicate detection (core.dedupe.keys): normalised copies of name/phone/e-mail, indexed for grouping
    name_key: Mapped[str | None] = mapped_column(String(200), index=True, default=dedupe_key("customer", "name_key"))
    phone_key: Mapped[str | None] = mapped_column(String(40), index=True, default=dedupe_key("customer", "phone_key"))
    email_key: Mapped[str | None] = mapped_column(String(254), index=True,
                                                  default=dedupe_key("customer", "email_key"))

    owner: Mapped[User | None] = relationship(foreign_keys="Customer.owner_id", lazy="joined")
    department: Mapped[Department | None] = relationship(foreign_keys="Customer.department_id")
    tags: Mapped[list[Tag]] = relationship(secondary=customer_tag, lazy="selectin")
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", lazy="noload")

    def __str__(self):
        return self.name


class Contact(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "contact"
    __table_args__ = (
        Index("ix_contact_owner_id_id", "owner_id", "id"),
        Index("ix_contact_department_id_id", "department_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(40), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    wechat: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    # duplicate detection (core.dedupe.keys); phone_key is the mobile's digits, else the phone's
    name_key: Mapped[str | None] = mapped_column(String(200), index=True, default=dedupe_key("contact", "name_key"))
    phone_key: Mapped[str | None] = mapped_column(String(40), index=True, default=dedupe_key("contact", "phone_key"))
    email_key: Mapped[str | None] = mapped_column(String(254), index=True, default=dedupe_key("contact", "email_key"))

    customer: Mapped[Customer] = relationship(back_populates="contacts")
    owner: Mapped[User | None] = relationship(foreign_keys="Contact.owner_id")

    def __str__(self):
        return self.name


class Product(TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """Company-wide catalogue. ``cost`` is procurement data: only ``core.product.cost`` holders see it."""

    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    cost: Mapped[Decimal | None] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return self.name


class FollowUp(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """联系记录: a call, visit, e-mail, WeChat or meeting with a customer (and maybe a contact).

    ``related_entity``/``related_id`` attach it to a plugin record too (lead, opportunity, project).
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_owner_id_id", "owner_id", "id"),
        Index("ix_follow_up_department_id_id", "department_id", "id"),
        Index("ix_follow_up_related", "related_entity", "related_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    kind: Mapped[str] = mapped_column(String(20), default="call")  # call|visit|email|wechat|meeting
    content: Mapped[str] = mapped_column(Text)
    happened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_follow_up: Mapped[dt.date | None] = mapped_column(Date, index=True)
    related_entity: Mapped[str | None] = mapped_column(String(40))
    related_id: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys="FollowUp.owner_id")

    def __str__(self):
        return (self.content or "")[:40]


class Attachment(Base):
    """A file on any record; stored outside the web root under a generated name, served as a download."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_record", "entity", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who changed what, when: ``changes`` maps field -> [old, new]."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_record", "entity", "record_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)

    user: Mapped[User | None] = relationship()


# ---------------------------------------------------------------- quote to cash: numbers and the mail outbox

# Attachments up to the upload limit: BLOB on MariaDB stops at 64 KiB.
BlobType = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

class NumberSequence(Base):
    """Last number handed out per key ("quotes.quote") and year; raised by one atomic UPDATE (core.numbering)."""

    __tablename__ = "number_sequence"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class MailMessage(Base):
    """The outbox: one row per e-mail, written in the caller's transaction and delivered after commit by the
    job "core.mail.deliver" (status queued -> sending -> sent | failed; ``attempts``, ``last_error``)."""

    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_related", "related_entity", "related_id"),
                      Index("ix_mail_message_status_id", "status", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # the Message-ID header, fixed at queueing
    status: Mapped[str] = mapped_column(String(10), default="queued", nullable=False)
    sender: Mapped[str] = mapped_column(String(255))
    recipients: Mapped[list] = mapped_column(JSONType, default=list)  # To
    cc: Mapped[list] = mapped_column(JSONType, default=list)
    reply_to: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    related_entity: Mapped[str | None] = mapped_column(String(40))
    related_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    attachments: Mapped[list[MailAttachment]] = relationship(
        back_populates="message", order_by="MailAttachment.id", cascade="all, delete-orphan")


class MailAttachment(Base):
    __tablename__ = "mail_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mimetype: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(BlobType)

    message: Mapped[MailMessage] = relationship(back_populates="attachments")

for _table in Base.metadata.tables.values():
    _table.info.setdefault("owner", "core")
