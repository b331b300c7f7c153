"""The configurable pipeline: stock stages, labels in the user's language, and the choices forms offer.

Stages are configuration shared by every user (no data scope), read once per request and cached on ``g``.
"""
from __future__ import annotations

from flask import g, has_app_context, has_request_context
from flask_babel import get_locale
from sqlalchemy import select

from core.i18n import _l
from plugins.opportunities.models import OpportunityStage

# Same data as the first migration, for a database whose stages were wiped (tests) or never seeded.
STOCK_STAGES = [
    ("initial_contact", "初步接洽", "Initial contact", 10, 10, "open"),
    ("needs_confirmed", "需求确认", "Needs confirmed", 30, 20, "open"),
    ("proposal", "方案报价", "Proposal / quote", 50, 30, "open"),
    ("negotiation", "谈判审核", "Negotiation", 70, 40, "open"),
    ("won", "赢单", "Won", 100, 50, "won"),
    ("lost", "输单", "Lost", 0, 60, "lost"),
]
KIND_CHOICES = [("open", _l("Open")), ("won", _l("Won (closes the deal)")), ("lost", _l("Lost (closes the deal)"))]


def language() -> str:
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None else "en"


def ensure_stock_stages(session) -> bool:
    """Create the stock stages when the table is empty (idempotent). Called on writes, never on GET."""
    if session.execute(select(OpportunityStage.id).limit(1)).first() is not None:
        return False
    session.add_all([OpportunityStage(key=key, label_zh=zh, label_en=en, probability=probability, position=position,
                           kind=kind, active=True)
                     for key, zh, en, probability, position, kind in STOCK_STAGES])
    session.flush()
    forget_cached_stages()
    return True


def all_stages(session) -> list[OpportunityStage]:
    """Every stage, in pipeline order (active or not)."""
    stmt = select(OpportunityStage).order_by(OpportunityStage.position, OpportunityStage.id)
    return list(session.execute(stmt).scalars())


def cached_stages(session=None) -> list[OpportunityStage]:
    """The stages of this request (one query per request), or freshly read outside a request."""
    from core.runtime import current, db
    if has_request_context():
        if "_opportunity_stages" not in g:
            g._opportunity_stages = all_stages(session or db())
        return g._opportunity_stages
    if session is not None:
        return all_stages(session)
    if has_app_context():
        with current().system_session("opportunity stage labels") as system:
            return all_stages(system)
    return []


def forget_cached_stages():
    if has_request_context():
        g.pop("_opportunity_stages", None)


def default_stage(session) -> OpportunityStage | None:
    """Where a new opportunity starts: the first active open stage."""
    return next((s for s in all_stages(session) if s.active and s.kind == "open"), None)


class StageChoices:
    """``Field.choices`` of ``stage_id``: ``(id, label)`` of the active stages, read when iterated, so forms,
    list filters and displayed values follow the configuration (and the user's language)."""

    def __init__(self, include_inactive=False):
        self.include_inactive = include_inactive

    def __iter__(self):
        lang = language()
        for stage in cached_stages():
            if stage.active or self.include_inactive:
                yield stage.id, stage.label(lang)

    def __bool__(self):
        return True

    def __len__(self):
        return len(list(iter(self)))
