"""What plugins contribute to pages: menu entries, detail-page panels, buttons and dashboard widgets."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class MenuItem:
    """A navigation entry. ``endpoint`` is a Flask endpoint; hidden when the user lacks ``permission``."""

    label: Any
    endpoint: str
    permission: str | None = None
    section: str = "main"  # main | admin | user
    order: int = 100
    icon: str = ""
    url_kwargs: dict = field(default_factory=dict)


@dataclass
class Panel:
    """A card or tab on a detail page, rendered from ``template`` with ``context``."""

    key: str
    title: Any
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


@dataclass
class Action:
    """A button on a detail page or a bulk action on a list. ``method`` POST actions carry CSRF."""

    key: str
    label: Any
    url: str
    method: str = "GET"
    permission: str | None = None
    style: str = "secondary"
    confirm: Any = None


@dataclass
class Widget:
    """A dashboard tile. ``load()`` returns the template context, querying the scoped session."""

    key: str
    title: Any
    template: str
    load: Callable[[], dict]
    order: int = 100
    width: int = 6  # of 12 grid columns
