"""The payments module's part of the quote-to-cash chain (hook ``deal_chain``): the "Payment plans" stage
(60, rows only) and the "Payments" stage (70, totals "received" = sum of payments, pre-receipts counting once
applied, as payment rows).

Anchors: customer (its plans and payments), contract (its own plans and those of its orders), order (its plans),
project / opportunity (plans of the contracts pointing at it, of their orders and of orders converted from its
quotes). Everything is read through the caller's scoped session, in a fixed number of queries.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import false, func, or_, select

from core.chain import POSITIONS, ChainRow, ChainStage, add_total
from core.i18n import _l
from plugins.contracts.models import Contract
from plugins.orders.models import Order
from plugins.payments.models import Payment, PaymentPlan
from plugins.payments.schemas import ALL_METHOD_CHOICES, PLAN_STATUS_CHOICES

ROW_LIMIT = 100


def _orders_of_contracts(contract_ids):
    return select(Order.id).where(Order.contract_id.in_(contract_ids))


def anchor_filter(entity, record, model):
    """WHERE clause selecting ``model`` rows (plans or payments) of the anchor, or None for other entities."""
    if entity == "customer":
        return model.customer_id == record.id
    if entity == "order":
        return model.order_id == record.id
    if entity == "contract":
        return or_(model.contract_id == record.id, model.order_id.in_(_orders_of_contracts([record.id])))
    if entity in ("project", "opportunity"):
        column = f"{entity}_id"
        contract_ids = select(Contract.id).where(getattr(Contract, column) == record.id)
        order_ids = select(Order.id).where(Order.contract_id.in_(contract_ids))
        quoted = _quoted_orders(column, record.id)
        orders = or_(model.order_id.in_(order_ids), model.order_id.in_(quoted)) if quoted is not None \
            else model.order_id.in_(order_ids)
        return or_(model.contract_id.in_(contract_ids), orders)
    return None


def _quoted_orders(column, record_id):
    """Orders converted from quotes of the project / opportunity (quotes is always loaded before orders)."""
    try:
        from plugins.quotes.models import Quote
    except ImportError:  # pragma: no cover - quotes is required by contracts, hence present
        return None
    return select(Order.id).where(Order.quote_id.in_(select(Quote.id).where(getattr(Quote, column) == record_id)))


def stages(entity, record, session) -> list[ChainStage]:
    plan_where = anchor_filter(entity, record, PaymentPlan)
    if plan_where is None:
        return []
    result = []
    plans = list(session.execute(select(PaymentPlan).where(plan_where)
                                 .order_by(PaymentPlan.due_on, PaymentPlan.id).limit(ROW_LIMIT)).scalars())
    if plans:
        numbers = _parent_numbers(session, plans)
        statuses = dict(PLAN_STATUS_CHOICES)
        rows = [ChainRow(label=f"{numbers.get(plan.parent_entity, {}).get(plan.parent_id, '')} {plan.display_title}"
                         .strip(), url=url_for("web.record_detail", entity="payment_plan", record_id=plan.id),
                         status_label=statuses.get(plan.status), amount=plan.amount, currency=plan.currency,
                         note=plan.due_on.isoformat()) for plan in plans]
        result.append(ChainStage(POSITIONS["payment_plans"], "payment_plans", _l("Payment plans"), rows, {}))
    payment_where = anchor_filter(entity, record, Payment)
    payments = list(session.execute(select(Payment).where(payment_where)
                                    .order_by(Payment.received_on.desc(), Payment.id.desc()).limit(ROW_LIMIT)).scalars())
    if payments:
        methods = dict(ALL_METHOD_CHOICES)
        rows = [ChainRow(label=f"{p.received_on.isoformat()} · {methods.get(p.method, p.method)}",
                         url=url_for("web.record_detail", entity="payment", record_id=p.id),
                         status_label=_l("Over-payment") if p.overpayment else None, amount=p.amount,
                         currency=p.currency, note=p.reference or "") for p in payments]
        totals = {}
        for currency, amount in received_by_currency(session, payment_where).items():
            add_total(totals, "received", currency, amount)
        result.append(ChainStage(POSITIONS["payments"], "payments", _l("Payments"), rows, totals))
    return result


def received_by_currency(session, where=None) -> dict:
    """Sum of the visible payments matching ``where``, per currency (over all of them, not only the rows)."""
    stmt = select(Payment.currency, func.sum(Payment.amount)).group_by(Payment.currency)
    stmt = stmt.where(where if where is not None else false())
    return {currency: amount for currency, amount in session.execute(stmt)}


def _parent_numbers(session, plans) -> dict:
    contract_ids = {p.contract_id for p in plans if p.contract_id}
    order_ids = {p.order_id for p in plans if p.order_id}
    found = {"contract": {}, "order": {}}
    if contract_ids:
        found["contract"] = dict(session.execute(select(Contract.id, Contract.number)
                                                 .where(Contract.id.in_(contract_ids))).all())
    if order_ids:
        found["order"] = dict(session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))).all())
    return found
