"""The module builder's tables: one row per custom field definition (values live in each record's ``custom``)."""
from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin


class LabelsMixin:
    """Labels in the user's language (shared by the table row and its cached snapshot)."""

    def label(self, language: str = "en") -> str:
        """The label in ``language`` ("zh..." or anything else = English), falling back to the other one."""
        first, second = (self.label_zh, self.label_en) if language.startswith("zh") else (self.label_en,
                                                                                             self.label_zh)
        return first or second or self.key

    def help(self, language: str = "en") -> str:
        first, second = (self.help_zh, self.help_en) if language.startswith("zh") else (self.help_en, self.help_zh)
        return first or second or ""

    def option_label(self, value, language: str = "en") -> str:
        for option in self.options or []:
            if option.get("value") == value:
                zh, en = option.get("label_zh") or "", option.get("label_en") or ""
                return (zh or en if language.startswith("zh") else en or zh) or str(value)
        return str(value)


class CustomFieldDef(LabelsMixin, TimestampMixin, Base):
    """A custom field of one entity. ``key`` is a server-generated slug (``cf_1a2b3c``) that never changes;
    deactivation (``active=False``) hides the field everywhere and keeps every stored value."""

    __tablename__ = "custom_field_def"
    __table_args__ = (UniqueConstraint("entity", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(30))
    label_zh: Mapped[str] = mapped_column(String(100), default="")
    label_en: Mapped[str] = mapped_column(String(100), default="")
    help_zh: Mapped[str] = mapped_column(String(255), default="")
    help_en: Mapped[str] = mapped_column(String(255), default="")
    options: Mapped[list] = mapped_column(JSONType, default=list)  # selects: [{value, label_zh, label_en}]
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    default_value: Mapped[object | None] = mapped_column(JSONType, nullable=True)
    section: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    show_in_list: Mapped[bool] = mapped_column(Boolean, default=False)
    filterable: Mapped[bool] = mapped_column(Boolean, default=False)
    indexed: Mapped[bool] = mapped_column(Boolean, default=False)
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self):
        return f"<CustomFieldDef {self.entity}.{self.key} {self.type}>"


DEFINITION_FIELDS = ("id", "entity", "key", "type", "label_zh", "label_en", "help_zh", "help_en", "options",
                     "required", "default_value", "section", "position", "show_in_list", "filterable", "indexed",
                     "unique", "active")


class FieldDef(LabelsMixin):
    """A read-only snapshot of a definition, shared by every request of a process until the definitions
    version changes."""

    __slots__ = DEFINITION_FIELDS

    def __init__(self, row):
        for name in DEFINITION_FIELDS:
            value = getattr(row, name)
            object.__setattr__(self, name, list(value) if name == "options" and value else value)
        if self.options is None:
            object.__setattr__(self, "options", [])

    def __setattr__(self, name, value):
        raise AttributeError("a cached field definition is read-only")

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in DEFINITION_FIELDS}

    def __repr__(self):
        return f"<FieldDef {self.entity}.{self.key} {self.type}>"
