"""The module's one table. Its name starts with the module name (``visits_``), as the host requires."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, OwnedMixin, SoftDeleteMixin, TimestampMixin, VersionedMixin

OUTCOMES = ("planned", "positive", "neutral", "negative")


class SiteVisit(OwnedMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    """A salesperson's visit to a customer's site: when, why, and how it went.

    ``OwnedMixin`` puts the row under the data scope (owner and department), ``SoftDeleteMixin`` sends a
    deleted visit to the recycle bin, ``VersionedMixin`` refuses stale edits.
    """

    __tablename__ = "visits_site_visit"
    __table_args__ = (
        # serve the keyset pages of scoped lists (see core.db.OwnedMixin)
        Index("ix_visits_site_visit_owner_id_id", "owner_id", "id"),
        Index("ix_visits_site_visit_department_id_id", "department_id", "id"),
        Index("ix_visits_site_visit_date_id", "date", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20), default="planned")

    def __str__(self):
        return self.purpose
