"""The export job table: a large export written to a file that only its requester may download."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime, utcnow


class ExportJob(Base):
    """One export run in the background. ``params`` holds the list state (q, sort, filters, columns).

    The file lives in ``INSTANCE_PATH/exports/<stored_name>`` (generated name, outside the web root) and is
    removed by the ``core.exports.cleanup`` scheduled job after ``EXPORT_KEEP_DAYS``.
    ``status``: queued -> running -> done | failed | expired.
    """

    __tablename__ = "export_job"
    __table_args__ = (Index("ix_export_job_user_id_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entity: Mapped[str] = mapped_column(String(40))
    file_format: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    status: Mapped[str] = mapped_column(String(20), default="queued")
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    filename: Mapped[str] = mapped_column(String(255), default="")
    stored_name: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


ExportJob.__table__.info["owner"] = "core"
