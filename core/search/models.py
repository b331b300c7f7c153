"""The search index table: one row per (token, entity, record)."""
from __future__ import annotations

from sqlalchemy import Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.search.tokens import MAX_TOKEN

# Prefix ranges (token >= 'ab' AND token < 'ac') need code-point order: "C" on PostgreSQL, utf8mb4_bin on
# MariaDB (the default utf8mb4_unicode_ci folds case and widths and would break the ranges); SQLite's
# default BINARY already is.
TokenType = (String(MAX_TOKEN)
             .with_variant(String(MAX_TOKEN, collation="C"), "postgresql")
             .with_variant(mysql.VARCHAR(MAX_TOKEN, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"))


class SearchToken(Base):
    """An inverted index: ``token`` is a suffix of a searchable value of record ``entity``/``record_id``.

    Every lookup names one entity and a token prefix (``entity = ? AND token >= ? AND token < ?``), so the
    primary key is (entity, token, record_id): one contiguous range per search, ids read from the key
    itself. The table is clustered on it on SQLite (WITHOUT ROWID) and MariaDB (InnoDB): the index is the
    table. ``ix_search_token_record`` (entity, record_id) serves deleting one record's tokens and lets the
    planner go from a small scope's ids to their tokens.
    """

    __tablename__ = "search_token"
    __table_args__ = (
        PrimaryKeyConstraint("entity", "token", "record_id", name="pk_search_token"),
        Index("ix_search_token_record", "entity", "record_id"),
        {"sqlite_with_rowid": False, "info": {"owner": "core"}},
    )
    token: Mapped[str] = mapped_column(TokenType)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
