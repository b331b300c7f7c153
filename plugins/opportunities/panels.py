"""Contexts of the module's panels and dashboard widget (rows always read through the scoped session)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import request, url_for
from sqlalchemy import select

from core.authz import has
from core.runtime import current, db
from core.scope import current_scope
from core.web import display
from core.web.widgets import local_today
from plugins.opportunities import services
from plugins.opportunities.models import Opportunity
from plugins.opportunities.reasons import LOSS_REASONS, WIN_REASONS
from plugins.opportunities.stages import cached_stages, language

WIDGET_MONTHS = 6
ZERO = Decimal("0.00")


def spec():
    return current().entities["opportunity"]


def stage_labels() -> dict:
    lang = language()
    return {s.id: s.label(lang) for s in cached_stages()}


def editable_ids(session, ids) -> set[int]:
    """Which of ``ids`` the caller may edit (one query; the same criteria as ``core.services.get``)."""
    if not ids or not has("opportunities.opportunity.edit"):
        return set()
    criteria = current_scope(session).criteria(spec(), "edit")
    stmt = select(Opportunity.id).where(Opportunity.id.in_(list(ids)))
    if criteria is not None:
        stmt = stmt.where(criteria)
    return set(session.execute(stmt).scalars())


def customer_context(customer) -> dict:
    session = db()
    rows = services.of_customer(session, customer.id)
    lookups = display.load_lookups(session, spec(), rows, ["owner_id"])
    return {"rows": rows, "stage_labels": stage_labels(), "users": lookups.users,
            "start_stage_id": next((s.id for s in cached_stages() if s.active and s.kind == "open"), None),
            "add_url": url_for("web.record_new", entity="opportunity", customer_id=customer.id)
            if has("opportunities.opportunity.create") else None,
            "all_url": url_for("web.record_list", entity="opportunity", f_customer_id=customer.id)}


def stage_context(record) -> dict:
    session = db()
    stages = cached_stages()
    current_stage = next((s for s in stages if s.id == record.stage_id), None)
    history = services.stage_history(session, record.id)
    users = display.load_lookups(session, spec(), history, [],
                                 extra_values=[("owner_id", h.changed_by_id) for h in history]).users
    lang = language()
    return {
        "record": record, "stage": current_stage, "labels": {s.id: s.label(lang) for s in stages},
        "stages": [s for s in stages if s.active], "history": history, "users": users,
        "weighted": services.weighted(record.amount, current_stage.probability) if current_stage else None,
        "can_edit": bool(editable_ids(session, [record.id])),
        "reasons": {"won": WIN_REASONS, "lost": LOSS_REASONS},
        "next": request.full_path if request.query_string else request.path,
    }


def widget_context(session) -> dict:
    """The next months' weighted forecast (from this month on), per currency."""
    first = local_today().replace(day=1)
    months = []
    for step in range(WIDGET_MONTHS):
        year, month = divmod(first.month - 1 + step, 12)
        months.append(dt.date(first.year + year, month + 1, 1).strftime("%Y-%m"))
    blocks = []
    for block in services.forecast(session):
        by_month = dict(block["months"])
        rows = [(month, by_month[month]["weighted"] if month in by_month else ZERO) for month in months]
        # open deals whose close date has passed: still in the pipeline, so still in the forecast
        overdue = sum((b["weighted"] for m, b in block["months"] if m is not None and m < months[0]), ZERO)
        blocks.append({"currency": block["currency"], "rows": rows, "overdue": overdue, "total": block["total"],
                       "chart": {"labels": months,
                                 # Chart.js wants numbers; the table shows the exact Decimal figures
                                 "values": [float(weighted) for _m, weighted in rows]}})
    return {"blocks": blocks, "board_url": url_for("opportunities.board"),
            "forecast_url": url_for("opportunities.forecast")}
