"""Data layer: declarative base, column types, mixins, engine and sessions.

Every request, job and CLI command works in a session whose ``info["scope"]`` says what it may see
(``core.scope``). A session without a scope refuses every ORM query (fail closed).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON, DateTime, ForeignKey, Integer, MetaData, Numeric, String, create_engine, event, false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every mapped class, core and plugins (one metadata; ownership in ``table.info``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (portable across SQLite/MariaDB/PostgreSQL), returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    @property
    def python_type(self):
        return dt.datetime

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME
            return dialect.type_descriptor(DATETIME(fsp=6))  # keep microseconds, like the other databases
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(18, 2)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                    nullable=False)


class OwnedMixin:
    """A record owned by a user and a department: the data scope filters on these two columns.

    Composite indexes ``(owner_id, id)`` and ``(department_id, id)`` serve keyset pages of scoped lists.
    """

    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user_account.id"), nullable=True)

    @declared_attr
    def department_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("department.id"), nullable=True)


class CustomFieldsMixin:
    """Custom field values of the module builder, keyed by server-generated slugs."""

    custom: Mapped[dict] = mapped_column(JSONType, default=dict, nullable=False)


class SoftDeleteMixin:
    """Deleted rows go to the recycle bin; every ORM query hides them unless asked with
    ``execution_options(include_deleted=True)``."""

    # No index of its own: almost every row is NULL here, and such an index lures SQLite's planner away from
    # the (owner_id, id) / (department_id, id) indexes that serve scoped list pages (measured in bench/).
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VersionedMixin:
    """Optimistic locking: a stale edit raises ``StaleDataError`` instead of overwriting."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


def money(value) -> Decimal:
    """Decimal with two places, half-up (the one rounding rule for money)."""
    from decimal import ROUND_HALF_UP
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def make_engine(url: str):
    """Engine with the settings each dialect needs (WAL + busy timeout on SQLite, utf8mb4 on MariaDB)."""
    kwargs = {"pool_pre_ping": True, "future": True}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 30, "check_same_thread": False}}
    elif url.startswith("postgresql"):
        # psycopg would switch to server-side prepared statements after 5 runs; their generic plans can ignore
        # partial/trigram indexes (measured 1.5 s instead of 2 ms in bench/), so plan each statement afresh.
        kwargs["connect_args"] = {"prepare_threshold": None}
    elif url.startswith("mysql") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    elif engine.dialect.name in ("mysql", "mariadb"):
        @event.listens_for(engine, "connect")
        def _mariadb_session(dbapi_conn, _record):
            # A team scope (owner = ? OR department IN (...)) with ORDER BY id DESC LIMIT n made MariaDB merge
            # both indexes, read every visible row and sort them: 368 ms instead of 0.9 ms for a 50-row page of
            # 25,897 orders (bench/README.md, "Quote-to-cash at retail size").
            cur = dbapi_conn.cursor()
            cur.execute("SET SESSION optimizer_switch='index_merge_sort_union=off'")
            cur.close()
    return engine


class GuanxiSession(Session):
    """The only session class the app uses; ``core.scope`` applies the data scope to its queries."""


def make_session_factory(engine):
    return sessionmaker(bind=engine, class_=GuanxiSession, expire_on_commit=False, autoflush=True)


def never():
    """An always-false criterion (scope level "none")."""
    return false()


__all__ = [
    "Base", "UTCDateTime", "JSONType", "Money", "TimestampMixin", "OwnedMixin", "CustomFieldsMixin",
    "SoftDeleteMixin", "VersionedMixin", "utcnow", "money", "make_engine", "make_session_factory", "String",
    "Mapped", "mapped_column", "ForeignKey",
]
