"""Tables of the projects module (names start with ``projects_``, as the host requires)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from core.db import (
    Base, CustomFieldsMixin, OwnedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow,
)
from core.models import Contact, Customer, User


class Stage(TimestampMixin, Base):
    """A step of project-based selling (项目立项 → … → 项目拓展). Administrators rename, reorder and
    deactivate stages; a deactivated stage is no longer offered but projects in it keep it."""

    __tablename__ = "projects_stage"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, language: str) -> str:
        """The stage's name in ``language`` ("zh_CN", "en", ...), falling back to the other one."""
        if language.startswith("zh"):
            return self.name_zh or self.name_en
        return self.name_en or self.name_zh

    def __str__(self):
        return self.name_en or self.name_zh


class Project(OwnedMixin, TimestampMixin, CustomFieldsMixin, SoftDeleteMixin, VersionedMixin, Base):
    """One sales project: several customers and their contacts, moving through the stages."""

    __tablename__ = "projects_project"
    __table_args__ = (
        # serve the keyset pages of scoped lists (see core.db.OwnedMixin)
        Index("ix_projects_project_owner_id_id", "owner_id", "id"),
        Index("ix_projects_project_department_id_id", "department_id", "id"),
        Index("ix_projects_project_kickoff_date_id", "kickoff_date", "id"),
        Index("ix_projects_project_updated_at_id", "updated_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    importance: Mapped[str] = mapped_column(String(20), default="normal")
    type: Mapped[str] = mapped_column(String(30), default="other")
    kickoff_date: Mapped[dt.date | None] = mapped_column(Date)
    # Nullable so that a stage can never block saving; services put a new project in the first stage.
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("projects_stage.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)

    stage: Mapped[Stage | None] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship(foreign_keys="Project.owner_id", lazy="joined")

    @property
    def follow_up_customer_id(self) -> int | None:
        """The first linked customer its session may see: the customer a new follow-up on the project is
        filed under (core's follow-ups panel reads it)."""
        session = object_session(self)
        if session is None or self.id is None:
            return None
        return session.execute(
            select(ProjectCustomer.customer_id).join(Customer, Customer.id == ProjectCustomer.customer_id)
            .where(ProjectCustomer.project_id == self.id).order_by(ProjectCustomer.id).limit(1)).scalar()

    def __str__(self):
        return f"{self.number} {self.name}"


class StageHistory(Base):
    """One move of a project from a stage to another (the stage timeline)."""

    __tablename__ = "projects_stage_history"
    __table_args__ = (Index("ix_projects_stage_history_project_id_id", "project_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects_project.id"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("projects_stage.id"))
    to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("projects_stage.id"))
    note: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()


class ProjectCustomer(Base):
    """A customer taking part in a project (end user, general contractor, design institute, ...)."""

    __tablename__ = "projects_project_customer"
    __table_args__ = (UniqueConstraint("project_id", "customer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects_project.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()


class ProjectContact(Base):
    """A contact person of one of the project's customers, with his part in the project."""

    __tablename__ = "projects_project_contact"
    __table_args__ = (UniqueConstraint("project_id", "contact_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects_project.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship()


class NumberCounter(Base):
    """Last project number handed out per year; incremented with one atomic UPDATE (row lock), so two
    projects created at the same moment never get the same number."""

    __tablename__ = "projects_number_counter"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


DEFAULT_STAGES = [  # (key, 中文, English) in selling order
    ("initiation", "项目立项", "Initiation"),
    ("tracking", "项目跟踪", "Tracking"),
    ("technical", "技术确认", "Technical confirmation"),
    ("commercial", "商务确认", "Commercial confirmation"),
    ("contract", "合同签订", "Contract signed"),
    ("delivery", "供货与回款", "Delivery & payment"),
    ("after_sales", "售后管理", "After-sales"),
    ("visits", "定期回访", "Regular follow-up visits"),
    ("expansion", "项目拓展", "Expansion"),
]
