"""Demo opportunities (``demo_data`` hook): ~60 deals in CNY over the pipeline, open ones closing over the
next six months (a few overdue), won and lost ones closed in the past with their reason, each with the
stage history that led there."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from core import demo as core_demo
from plugins.opportunities.models import Opportunity, OpportunityStageHistory
from plugins.opportunities.reasons import LOSS_REASONS, WIN_REASONS
from plugins.opportunities.stages import all_stages, ensure_stock_stages

COUNT = 60
KIND_WEIGHTS = {"open": 38, "won": 13, "lost": 9}
TOPICS = ["年度采购框架协议", "办公设备更新", "CRM 系统实施", "生产线自动化改造", "备品备件年度供货", "网络设备升级",
          "Annual supply agreement", "Warehouse automation", "Service contract renewal", "新厂房设备采购"]
COMPETITORS = ["联想", "华为", "西门子 Siemens", "本地经销商", "Dell", None, None]
SOURCES = ["referral", "website", "exhibition", "cold_call", "advertising", "other"]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"opportunities-{seed}")
    staff = {user.id: user for user in core_demo.sales_staff(users)}
    owned = [(customer, contacts) for customer, contacts in customers if customer.owner_id in staff]
    ensure_stock_stages(session)
    stages = [stage for stage in all_stages(session) if stage.active]
    open_stages = [stage for stage in stages if stage.kind == "open"]
    closing = {kind: next((s for s in stages if s.kind == kind), None) for kind in ("won", "lost")}
    if not owned or not open_stages:
        return
    deals, history = [], []
    for customer, contacts in rng.sample(owned, min(COUNT, len(owned))):
        owner = staff[customer.owner_id]
        kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
        if closing.get(kind) is None:
            kind = "open"
        deal, path = _deal(rng, customer, contacts, owner, kind, open_stages, closing, today)
        deals.append(deal)
        history.append((deal, path))
    session.add_all(deals)
    session.flush()
    session.add_all([row for deal, path in history for row in _history_rows(deal, path)])
    session.flush()


def _deal(rng, customer, contacts, owner, kind, open_stages, closing, today):
    created = max(customer.created_at, _at(today - dt.timedelta(days=rng.randint(20, 240)), rng))
    amount = (Decimal(rng.randint(20, 2000)) * 1000).quantize(Decimal("0.01"))
    deal = Opportunity(
        name=f"{customer.name[:40]} - {rng.choice(TOPICS)}", customer_id=customer.id,
        contact_id=rng.choice(contacts).id if contacts else None, amount=amount, currency="CNY",
        source=rng.choice(SOURCES), competitors=rng.choice(COMPETITORS), owner_id=owner.id,
        department_id=owner.department_id, created_at=created)
    if kind == "open":
        reached = rng.randint(0, len(open_stages) - 1)
        path = open_stages[:reached + 1]
        # mostly ahead, a few overdue: a pipeline that needs attention
        deal.expected_close = today + dt.timedelta(days=rng.choice([rng.randint(-20, -1)] + [rng.randint(5, 180)] * 5))
        moved = created
    else:
        path = open_stages[:rng.randint(1, len(open_stages))] + [closing[kind]]
        deal.closed_at = _at(today - dt.timedelta(days=rng.randint(1, 150)), rng)
        deal.created_at = min(created, deal.closed_at - dt.timedelta(days=3 * len(path)))
        deal.expected_close = deal.closed_at.date()
        reasons = WIN_REASONS if kind == "won" else LOSS_REASONS
        deal.close_reason = rng.choice(reasons)[0]
        deal.close_note = "客户对交期和售后很满意" if kind == "won" else rng.choice(["预算被削减", "竞品报价低 15%", None])
        moved = deal.closed_at
    deal.stage_id = path[-1].id
    deal.updated_at = moved
    return deal, [(stage, owner.id) for stage in path]


def _history_rows(deal, path):
    """From "no stage" into the first one at creation, then one row per step, spread until the last move."""
    end = deal.closed_at or deal.updated_at
    step = (end - deal.created_at) / max(len(path), 1)
    rows, previous = [], None
    for index, (stage, user_id) in enumerate(path):
        at = end if deal.closed_at and index == len(path) - 1 else deal.created_at + step * index
        rows.append(OpportunityStageHistory(opportunity_id=deal.id, from_stage_id=previous, to_stage_id=stage.id,
                                            changed_by_id=user_id, changed_at=at))
        previous = stage.id
    return rows


def _at(day: dt.date, rng) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(1, 10), rng.randint(0, 59)), tzinfo=dt.timezone.utc)
