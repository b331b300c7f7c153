"""Stored totals that always agree with the rows they sum.

``PaymentPlan.received_amount`` (and its status) = sum of the plan's live payments;
``Prereceipt.applied_amount`` = sum of the live payments made from it. One ``before_flush`` listener recomputes
them for every plan / pre-receipt whose payments change in the flush — created by a service, edited in the
generic form or the API, deleted to the recycle bin, restored — so no path can forget it, and the new totals are
written in the same transaction as the payments.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, func, inspect as sa_inspect, select

from core.db import GuanxiSession
from core.scope import system_scope
from plugins.payments.models import Payment, PaymentPlan, Prereceipt, plan_status

ZERO = Decimal("0.00")


def _values(payment, name):
    """Current and previous values of ``name`` (a payment moved to another plan affects both)."""
    history = sa_inspect(payment).attrs[name].history
    values = {getattr(payment, name)}
    values.update(history.deleted or ())
    return {v for v in values if v is not None}


def _live(payment, session) -> bool:
    return payment not in session.deleted and payment.deleted_at is None


def _sum(session, column, key, changed_ids, in_session) -> Decimal:
    stmt = select(func.coalesce(func.sum(Payment.amount), 0)).where(column == key)
    if changed_ids:
        stmt = stmt.where(Payment.id.not_in(changed_ids))
    stored = session.execute(stmt).scalar_one()
    pending = sum((p.amount or ZERO for p in in_session if getattr(p, column.key) == key), ZERO)
    return Decimal(stored) + pending


@event.listens_for(GuanxiSession, "before_flush")
def keep_totals(session, flush_context, instances):
    changed = [obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, Payment)]
    if not changed:
        return
    plan_ids, prereceipt_ids = set(), set()
    for payment in changed:
        plan_ids |= _values(payment, "plan_id")
        prereceipt_ids |= _values(payment, "prereceipt_id")
    changed_ids = [p.id for p in changed if p.id is not None]
    live = [p for p in changed if _live(p, session)]
    with system_scope(session, "payments: stored totals"), session.no_autoflush:
        for plan_id in plan_ids:
            plan = session.execute(select(PaymentPlan).where(PaymentPlan.id == plan_id).execution_options(
                include_deleted=True)).scalar_one_or_none()
            if plan is None:
                continue
            received = _sum(session, Payment.plan_id, plan_id, changed_ids, live)
            if plan.received_amount != received:
                plan.received_amount = received
            status = plan_status(plan.amount, received)
            if plan.status != status:
                plan.status = status
        for prereceipt_id in prereceipt_ids:
            prereceipt = session.execute(select(Prereceipt).where(Prereceipt.id == prereceipt_id)
                                         .execution_options(include_deleted=True)).scalar_one_or_none()
            if prereceipt is None:
                continue
            applied = _sum(session, Payment.prereceipt_id, prereceipt_id, changed_ids, live)
            if prereceipt.applied_amount != applied:
                prereceipt.applied_amount = applied
