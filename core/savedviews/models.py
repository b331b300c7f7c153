"""The one table of saved views."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin

MAX_QUERY_LENGTH = 2000


class SavedView(TimestampMixin, Base):
    """A user's named list state (filters, sort, columns) for one entity.

    ``query`` is the list page's query string, validated when saved and again when applied (it is only ever
    turned back into list arguments, so it filters inside the viewer's own scope and cannot widen it).
    ``columns`` are the list columns shown when it was saved; applying the view makes them the viewer's
    column choice (limited, as any choice, to the columns he may see).
    ``role_id`` / ``department_id`` share it with a role's members / a department subtree.
    """

    __tablename__ = "saved_view"
    __table_args__ = (
        UniqueConstraint("user_id", "entity", "name"),
        Index("ix_saved_view_entity_user_id", "entity", "user_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(MAX_QUERY_LENGTH), default="")
    columns: Mapped[list] = mapped_column(JSONType, default=list)  # the list's columns, in order
    role_id: Mapped[int | None] = mapped_column(ForeignKey("role.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"), index=True)

    def __str__(self):
        return self.name

