"""Tables of the import feature: one row per import run, saved column mappings, and per-record undo data."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime, utcnow


class ImportJob(Base):
    """One upload and its run. Only ``user_id`` (the importer) may see its pages and its error report.

    ``status``: uploaded -> ready (mapping chosen) -> queued -> running -> done | failed;
    undo: done -> undoing -> undone (or back to done with ``message`` when refused).
    ``mapping`` is ``{column index (str): field name}``; ``options`` holds ``duplicates``
    (skip|update|create), ``match`` (field compared to find duplicates) and ``owner_id``.
    """

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_user_id_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(8))  # csv | xlsx
    encoding: Mapped[str | None] = mapped_column(String(20))
    header: Mapped[list] = mapped_column(JSONType, default=list)
    mapping: Mapped[dict] = mapped_column(JSONType, default=dict)
    options: Mapped[dict] = mapped_column(JSONType, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error_report: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ImportMapping(Base):
    """A column mapping a user saved by name, reused for the next file with the same headers.

    ``columns`` maps a header text (as in the file) to a field name.
    """

    __tablename__ = "import_mapping"
    __table_args__ = (UniqueConstraint("user_id", "entity", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    columns: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportChange(Base):
    """What an import did to one record, so "undo this import" can reverse exactly that.

    ``action``: create | update. ``old_values``: ``{field: value before}`` (updates). ``version``: the
    record's version right after the import: a different one at undo time means someone changed it since.
    """

    __tablename__ = "import_change"
    __table_args__ = (Index("ix_import_change_import_id_id", "import_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    old_values: Mapped[dict | None] = mapped_column(JSONType)
    version: Mapped[int | None] = mapped_column(Integer)


for _table in (ImportJob.__table__, ImportMapping.__table__, ImportChange.__table__):
    _table.info["owner"] = "core"
