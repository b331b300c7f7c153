"""The contracts module's part of the quote-to-cash chain (hook ``deal_chain``): the "Contracts" stage (20,
totals "contracted") and the "Delivery plan" stage (30, rows only).

Anchors: customer, project, opportunity (contracts pointing at them), contract (itself) and order (the
order's contract, as a row without totals: the order's own total is what it contracts). Everything is read
through the caller's scoped session — a milestone only through a visible contract — in a fixed number of
queries whatever the number of contracts.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from core.chain import POSITIONS, ChainRow, ChainStage, add_total
from core.i18n import _l
from core.numbering import today
from plugins.contracts.models import Contract, DeliveryPlan
from plugins.contracts.schemas import PLAN_STATUS_CHOICES, STATUS_CHOICES

ROW_LIMIT = 100
ANCHORS = {"customer": Contract.customer_id, "project": Contract.project_id,
           "opportunity": Contract.opportunity_id, "contract": Contract.id}


def stages(entity, record, session) -> list[ChainStage]:
    if entity == "order":
        contract_id = getattr(record, "contract_id", None)
        if contract_id is None:
            return []
        return _stages(session, Contract.id == contract_id, with_totals=False)
    column = ANCHORS.get(entity)
    if column is None:
        return []
    return _stages(session, column == record.id, with_totals=True)


def _stages(session, where, with_totals: bool) -> list[ChainStage]:
    contracts = list(session.execute(select(Contract).where(where).order_by(Contract.id.desc()).limit(ROW_LIMIT))
                     .unique().scalars())
    if not contracts:
        return []
    statuses = {value: label for value, label in STATUS_CHOICES}
    rows = [ChainRow(label=f"{c.number} {c.title}", url=_contract_url(c.id), status_label=statuses.get(c.status),
                     amount=c.amount, currency=c.currency, note=c.ends_on.isoformat() if c.ends_on else "")
            for c in contracts]
    totals = {}
    if with_totals:  # over every visible contract of the anchor, not only the rows shown
        sums = session.execute(select(Contract.currency, func.sum(Contract.amount))
                               .where(where, Contract.status != "cancelled").group_by(Contract.currency))
        for currency, amount in sums:
            add_total(totals, "contracted", currency, amount)
    result = [ChainStage(POSITIONS["contracts"], "contracts", _l("Contracts"), rows, totals)]
    plans = _plan_rows(session, where)
    if plans:
        result.append(ChainStage(POSITIONS["delivery_plans"], "delivery_plans", _l("Delivery plan"), plans, {}))
    return result


def _plan_rows(session, where) -> list[ChainRow]:
    statuses = {value: label for value, label in PLAN_STATUS_CHOICES}
    on = today()
    # the join goes through the scoped Contract: milestones of contracts out of scope never come back
    found = session.execute(
        select(DeliveryPlan, Contract.number, Contract.currency).join(Contract, Contract.id == DeliveryPlan.contract_id)
        .where(where).order_by(DeliveryPlan.due_on, DeliveryPlan.id).limit(ROW_LIMIT)).all()
    return [ChainRow(label=f"{number} · {plan.title}", url=_contract_url(plan.contract_id) + "#delivery_plan",
                     status_label=statuses.get(plan.status), amount=plan.amount,
                     currency=currency if plan.amount is not None else None,
                     note=_plan_note(plan, on)) for plan, number, currency in found]


def _plan_note(plan, on):
    if plan.overdue(on):
        return _l("overdue since %(date)s", date=plan.due_on.isoformat())
    return plan.delivered_on.isoformat() if plan.delivered_on else plan.due_on.isoformat()


def _contract_url(contract_id):
    return url_for("web.record_detail", entity="contract", record_id=contract_id)
