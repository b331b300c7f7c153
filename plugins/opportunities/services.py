"""Business rules of opportunities. Every function takes the caller's session, so the data scope applies.

* ``apply_rules`` is the entity's ``on_save``: it runs inside ``core.services.create``/``update`` for forms,
  API, imports and the leads conversion alike (default stage and currency, stage history, close reasons).
* ``move`` is the one way the board changes a stage: ``core.services.update`` checks the edit permission
  within the caller's scope (404 outside it), the record version (stale: 409) and writes the audit entry.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import func, inspect, or_, select, update

from core import audit, services as core_services
from core.db import money, utcnow
from core.i18n import _
from core.models import Contact, User
from core.scope import current_scope
from plugins.opportunities.models import Opportunity, OpportunityStage, OpportunityStageHistory
from plugins.opportunities.reasons import reasons_for
from plugins.opportunities.schemas import default_currency
from plugins.opportunities.stages import (
    all_stages, cached_stages, default_stage, ensure_stock_stages, forget_cached_stages,
)

HUNDRED = Decimal(100)
CARDS_PER_COLUMN = 100


# ------------------------------------------------------------------ saving

def apply_rules(session, record, data):
    """``EntitySpec.on_save``: complete and check an opportunity before it is written."""
    # No autoflush: the caller flushes once, where it turns a concurrent change into StaleVersion.
    with session.no_autoflush:
        _apply_rules(session, record)


def _apply_rules(session, record):
    ensure_stock_stages(session)
    _normalise_values(record)
    if record.stage_id is None:
        start = default_stage(session)
        if start is None:
            raise ValidationError({"stage_id": [_("No open stage is configured; ask an administrator.")]})
        record.stage_id = start.id
    stage = session.execute(select(OpportunityStage).where(OpportunityStage.id == record.stage_id)).scalar_one_or_none()
    if stage is None:
        raise ValidationError({"stage_id": [_("Unknown stage.")]})
    previous = _stage_change(record)
    if previous is not False and not stage.active:
        raise ValidationError({"stage_id": [_("This stage is no longer in use.")]})
    _check_close_reason(record, stage)
    _check_contact(session, record)
    if previous is not False:  # every stage change leaves a history row (written with the change)
        record.closed_at = utcnow() if stage.kind in ("won", "lost") else None
        session.add(OpportunityStageHistory(opportunity=record, from_stage_id=previous, to_stage_id=stage.id,
                                 changed_by_id=current_scope(session).user_id, changed_at=utcnow()))


def _normalise_values(record):
    """Values given as text by generic callers (the leads conversion passes a decimal string)."""
    if isinstance(record.amount, (str, int, float)) and not isinstance(record.amount, bool):
        try:
            record.amount = money(str(record.amount))
        except ArithmeticError:
            raise ValidationError({"amount": [_("Not a valid number.")]}) from None
    if record.amount is None:
        record.amount = Decimal("0.00")
    if isinstance(record.expected_close, str):
        try:
            record.expected_close = dt.date.fromisoformat(record.expected_close)
        except ValueError:
            raise ValidationError({"expected_close": [_("Not a valid date (YYYY-MM-DD).")]}) from None
    if not record.currency:
        record.currency = default_currency()


def _stage_change(record):
    """The previous stage id if ``stage_id`` changed in this save (None for a new record), else False."""
    state = inspect(record)
    history = state.attrs.stage_id.history
    if state.transient or state.pending:
        return None
    if not history.added:
        return False
    return history.deleted[0] if history.deleted else None


def _check_close_reason(record, stage):
    if stage.kind not in ("won", "lost"):
        record.close_reason = None  # reopened: the old reason no longer applies
        return
    allowed = dict(reasons_for(stage.kind))
    if record.close_reason not in allowed:
        message = _("Choose why the deal was won.") if stage.kind == "won" else _("Choose why the deal was lost.")
        raise ValidationError({"close_reason": [message]})


def _check_contact(session, record):
    if record.contact_id is None:
        return
    contact = session.execute(select(Contact.customer_id).where(Contact.id == record.contact_id)).first()
    if contact is None or contact.customer_id != record.customer_id:
        raise ValidationError({"contact_id": [_("This contact does not belong to the customer.")]})


def move(session, registry, record_id, stage_id, version=None, close_reason=None, close_note=None):
    """Move an opportunity to another stage (the board, its no-JS form and the detail page all call this).

    Raises ``core.services.NotFound`` (missing or not editable in the caller's scope), ``Forbidden``,
    ``StaleVersion`` and ``ValidationError`` (unknown stage, missing close reason).
    """
    data = {"stage_id": stage_id}
    if version is not None:
        data["version"] = version
    if close_reason:
        data["close_reason"] = close_reason
    if close_note:
        data["close_note"] = close_note[:5000]
    return core_services.update(session, registry["opportunity"], record_id, data, registry)


# ------------------------------------------------------------------ reading

def default_stage_id(session):
    start = default_stage(session)
    return start.id if start else None


def _stage_filter(stage_id, start_id):
    """Rows of ``stage_id``; rows without a stage count as the starting stage."""
    column = Opportunity.stage_id
    return or_(column == stage_id, column.is_(None)) if stage_id == start_id else column == stage_id


def month_bounds(month: str | None):
    if not month:
        return None
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    following = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following


def board_filters(owner_id=None, month=None) -> list:
    where = []
    if owner_id:
        where.append(Opportunity.owner_id == owner_id)
    bounds = month_bounds(month)
    if bounds:
        where += [Opportunity.expected_close >= bounds[0], Opportunity.expected_close < bounds[1]]
    return where


def weighted(amount: Decimal, probability: int) -> Decimal:
    return money(Decimal(amount) * probability / HUNDRED)


def board(session, owner_id=None, month=None, per_column=CARDS_PER_COLUMN) -> dict:
    """Columns of the kanban: each active stage with its cards (capped) and per-currency totals.

    One query for the stages, one for the totals, one per column for the cards: bounded by the number of
    stages, never by the number of opportunities. The caller's scope filters every query.
    """
    stages = [s for s in cached_stages(session) if s.active]
    start = next((s for s in stages if s.kind == "open"), None)
    start_id = start.id if start else None
    where = board_filters(owner_id, month)
    totals = defaultdict(dict)
    stmt = (select(Opportunity.stage_id, Opportunity.currency, func.count(Opportunity.id),
                   func.sum(Opportunity.amount))
            .where(*where).group_by(Opportunity.stage_id, Opportunity.currency))
    for stage_id, currency, count, amount in session.execute(stmt):
        key = start_id if stage_id is None else stage_id
        count_before, amount_before = totals[key].get(currency, (0, Decimal(0)))
        totals[key][currency] = (count_before + count, amount_before + Decimal(amount or 0))
    columns = []
    for stage in stages:
        cards = list(session.execute(
            select(Opportunity).where(_stage_filter(stage.id, start_id), *where)
            .order_by(Opportunity.expected_close.is_(None), Opportunity.expected_close, Opportunity.id)
            .limit(per_column)).scalars()) if per_column else []
        by_currency = totals.get(stage.id, {})
        columns.append({
            "stage": stage, "cards": cards, "count": sum(c for c, _a in by_currency.values()),
            "totals": [(currency, money(amount), weighted(amount, stage.probability))
                       for currency, (_c, amount) in sorted(by_currency.items())],
        })
    return {"columns": columns, "start_id": start_id}


def forecast(session, owner_id=None) -> list[dict]:
    """Weighted amount (amount × stage probability) of open opportunities, per expected-close month and per
    owner, one block per currency. Exact Decimal arithmetic; each figure is rounded once, at the end."""
    stages = {s.id: s for s in cached_stages(session)}
    start = next((s for s in stages.values() if s.active and s.kind == "open"), None)
    open_ids = [s.id for s in stages.values() if s.kind == "open"]
    if not open_ids:
        return []
    condition = or_(Opportunity.stage_id.in_(open_ids), Opportunity.stage_id.is_(None))
    stmt = (select(Opportunity.currency, Opportunity.expected_close, Opportunity.owner_id, Opportunity.stage_id,
                   func.count(Opportunity.id), func.sum(Opportunity.amount))
            .where(condition, *board_filters(owner_id))
            .group_by(Opportunity.currency, Opportunity.expected_close, Opportunity.owner_id, Opportunity.stage_id))
    blocks: dict[str, dict] = {}
    for currency, close, owner, stage_id, count, amount in session.execute(stmt):
        stage = stages.get(stage_id) or start
        probability = stage.probability if stage else 0
        amount = Decimal(amount or 0)
        block = blocks.setdefault(currency, {"months": defaultdict(_bucket), "owners": defaultdict(_bucket),
                                             "total": _bucket()})
        month = close.strftime("%Y-%m") if close else None
        for bucket in (block["months"][month], block["owners"][owner], block["total"]):
            bucket["count"] += count
            bucket["amount"] += amount
            bucket["weighted_raw"] += amount * probability
    names = _user_names(session, {o for b in blocks.values() for o in b["owners"] if o})
    result = []
    for currency in sorted(blocks):
        block = blocks[currency]
        months = sorted(block["months"].items(), key=lambda item: (item[0] is None, item[0] or ""))
        owners = sorted(block["owners"].items(), key=lambda item: (-item[1]["weighted_raw"], item[0] or 0))
        result.append({
            "currency": currency,
            "months": [(month, _finish(bucket)) for month, bucket in months],
            "owners": [(owner, names.get(owner, ""), _finish(bucket)) for owner, bucket in owners],
            "total": _finish(block["total"]),
        })
    return result


def _bucket():
    return {"count": 0, "amount": Decimal(0), "weighted_raw": Decimal(0)}


def _finish(bucket) -> dict:
    return {"count": bucket["count"], "amount": money(bucket["amount"]),
            "weighted": money(bucket["weighted_raw"] / HUNDRED)}


def _user_names(session, ids) -> dict:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def of_customer(session, customer_id: int, limit: int = 50) -> list[Opportunity]:
    """The customer's opportunities the caller may see, open ones first by close date."""
    stmt = (select(Opportunity).where(Opportunity.customer_id == customer_id)
            .order_by(Opportunity.closed_at.is_not(None), Opportunity.expected_close.is_(None),
                      Opportunity.expected_close, Opportunity.id.desc()).limit(limit))
    return list(session.execute(stmt).scalars())


def stage_history(session, opportunity_id: int) -> list[OpportunityStageHistory]:
    """Stage changes of one opportunity, oldest first (the caller loaded the opportunity in scope)."""
    stmt = (select(OpportunityStageHistory).where(OpportunityStageHistory.opportunity_id == opportunity_id)
            .order_by(OpportunityStageHistory.changed_at, OpportunityStageHistory.id))
    return list(session.execute(stmt).scalars())


def latest_won_dates(session, customer_ids) -> dict:
    """{customer_id: date of the latest won deal} (for the customer pool's "last deal" rule)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    won = select(OpportunityStage.id).where(OpportunityStage.kind == "won")
    stmt = (select(Opportunity.customer_id, func.max(Opportunity.closed_at))
            .where(Opportunity.customer_id.in_(ids), Opportunity.stage_id.in_(won),
                   Opportunity.closed_at.is_not(None))
            .group_by(Opportunity.customer_id))
    zone = _local_zone()
    result = {}
    for customer_id, closed in session.execute(stmt):
        if isinstance(closed, str):  # defensive: a driver returning MAX() of a datetime as text
            closed = dt.datetime.fromisoformat(closed)
        if closed.tzinfo is None:
            closed = closed.replace(tzinfo=dt.timezone.utc)
        result[customer_id] = closed.astimezone(zone).date()  # the day it was won, in the office's time zone
    return result


def _local_zone():
    from flask import has_app_context
    if not has_app_context():
        return dt.timezone.utc
    from core.web.display import local_timezone
    return local_timezone()


# ------------------------------------------------------------------ merges

def relink(session, column_name: str, survivor_id: int, merged_ids: list[int]) -> None:
    """Opportunities of merged customers/contacts now point at the survivor (recycle-bin rows too)."""
    column = getattr(Opportunity, column_name)
    session.execute(update(Opportunity).where(column.in_(merged_ids))
                    .values({column_name: survivor_id, "version": Opportunity.version + 1})
                    .execution_options(include_deleted=True, synchronize_session="fetch"))


# ------------------------------------------------------------------ stage administration

def save_stage(session, stage: OpportunityStage | None, values: dict) -> OpportunityStage:
    """Create or change a stage (``opportunities.stage.manage`` checked by the view)."""
    errors = {}
    label_zh, label_en = (values.get("label_zh") or "").strip(), (values.get("label_en") or "").strip()
    if not label_zh or len(label_zh) > 60:
        errors["label_zh"] = [_("Between 1 and 60 characters.")]
    if not label_en or len(label_en) > 60:
        errors["label_en"] = [_("Between 1 and 60 characters.")]
    try:
        probability = int(str(values.get("probability", "")).strip())
        if not 0 <= probability <= 100:
            raise ValueError
    except ValueError:
        errors["probability"] = [_("A whole number from 0 to 100.")]
        probability = 0
    kind = values.get("kind") or "open"
    if kind not in ("open", "won", "lost"):
        errors["kind"] = [_("Unknown stage type.")]
    active = bool(values.get("active"))
    if stage is not None and not active and stage.active:
        in_use = _open_count(session, stage.id)
        if in_use:
            errors["active"] = [_("%(count)s opportunities are still in this stage; move them first.",
                                  count=in_use)]
    if errors:
        raise ValidationError(errors)
    ensure_stock_stages(session)
    action = "update"
    if stage is None:
        last = session.execute(select(func.max(OpportunityStage.position))).scalar() or 0
        stage = OpportunityStage(key=_new_key(session), position=last + 10)
        session.add(stage)
        action = "create"
    wanted = {"label_zh": label_zh, "label_en": label_en, "probability": probability, "kind": kind,
              "active": active}
    changes = {name: [getattr(stage, name), value] for name, value in wanted.items()
               if getattr(stage, name) != value}
    for name, value in wanted.items():
        setattr(stage, name, value)
    session.flush()
    if changes:  # the pipeline's configuration weighs every forecast: who changed it stays on record
        audit.record(session, "opportunity_stage", stage.id, action, current_scope(session).user_id, changes)
    session.commit()
    forget_cached_stages()
    return stage


def _open_count(session, stage_id) -> int:
    """Opportunities in a stage across the whole company (a configuration check, not a read of data)."""
    from core.scope import system_scope
    with system_scope(session, f"opportunities: count rows in stage {stage_id} before deactivating it"):
        return session.execute(select(func.count(Opportunity.id)).where(Opportunity.stage_id == stage_id)).scalar()


def _new_key(session) -> str:
    taken = set(session.execute(select(OpportunityStage.key)).scalars())
    number = len(taken) + 1
    while f"stage_{number}" in taken:
        number += 1
    return f"stage_{number}"


def reorder_stage(session, stage: OpportunityStage, direction: str) -> None:
    """Swap a stage with its neighbour (``up``/``down``) and renumber positions 10, 20, 30…"""
    stages = all_stages(session)
    index = stages.index(stage)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(stages):
        stages[index], stages[other] = stages[other], stages[index]
    for number, item in enumerate(stages, start=1):
        item.position = number * 10
    session.commit()
    forget_cached_stages()
