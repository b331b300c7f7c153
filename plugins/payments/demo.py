"""Demo payments (``demo_data`` hook): plans for most demo contracts and orders, the early instalments paid (one
of them in part), later ones due or overdue, and a pre-receipt partly applied — so the chain, the receivables
and the ageing report show something for several customers. Runs after the contracts and orders demos
(``trylast``), reading the rows they flushed."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from core.money import quantize
from plugins.contracts.models import Contract
from plugins.orders.models import Order
from plugins.payments.models import Payment, PaymentPlan, Prereceipt, PrereceiptApplication, plan_status

TITLES = ["预付款 Down payment", "进度款 Progress payment", "验收款 Acceptance payment", "质保金 Retention"]
SHARES = {2: (Decimal("0.3"), Decimal("0.7")), 3: (Decimal("0.3"), Decimal("0.6"), Decimal("0.1"))}
METHODS = ["bank_transfer", "bank_transfer", "acceptance", "wechat", "alipay"]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"payments-{seed}")
    parents = [p for p in session.execute(select(Contract).where(Contract.status.in_(("active", "completed")))
                                          .order_by(Contract.id)).scalars()]
    parents += [o for o in session.execute(select(Order).where(Order.contract_id.is_(None),
                                                               Order.status != "cancelled")
                                           .order_by(Order.id).limit(60)).unique().scalars()]
    plans, payments = [], []
    for parent in parents:
        total = parent.amount if isinstance(parent, Contract) else parent.total
        if not total or rng.random() < 0.25:
            continue
        start = getattr(parent, "signed_on", None) or getattr(parent, "ordered_on", None) or today
        made = _plans(rng, parent, total, start)
        plans += made
        payments += _payments(rng, made, today)
    session.add_all(plans)
    session.flush()
    for payment in payments:
        payment.plan_id = payment.plan.id
    session.add_all(payments)
    session.flush()
    _prereceipt(rng, session, plans, today)


def _plans(rng, parent, total, start):
    count = rng.choice([1, 2, 3])
    shares = SHARES.get(count, (Decimal(1),))
    amounts = [quantize(total * share, parent.currency) for share in shares]
    amounts[-1] = total - sum(amounts[:-1])  # the plans add up to the contract exactly
    field = "contract_id" if isinstance(parent, Contract) else "order_id"
    return [PaymentPlan(**{field: parent.id}, customer_id=parent.customer_id, currency=parent.currency,
                        instalment=index + 1, title=TITLES[index if count > 1 else 0],
                        due_on=start + dt.timedelta(days=30 + 60 * index + rng.randint(0, 20)), amount=amount,
                        received_amount=Decimal("0.00"), status="unpaid", owner_id=parent.owner_id,
                        department_id=parent.department_id)
            for index, amount in enumerate(amounts)]


def _payments(rng, plans, today):
    """Instalments due more than a month ago are mostly paid; a few in part, a few not at all (overdue)."""
    rows = []
    for plan in plans:
        if plan.due_on > today - dt.timedelta(days=30) or rng.random() < 0.2:
            continue
        amount = plan.amount if rng.random() < 0.75 else quantize(plan.amount / 2, plan.currency)
        received_on = min(plan.due_on + dt.timedelta(days=rng.randint(-5, 25)), today)
        rows.append(Payment(plan=plan, contract_id=plan.contract_id, order_id=plan.order_id,
                            customer_id=plan.customer_id, currency=plan.currency, amount=amount,
                            received_on=received_on, method=rng.choice(METHODS), overpayment=False, custom={},
                            reference=f"BK{rng.randint(10**7, 10**8 - 1)}", owner_id=plan.owner_id,
                            department_id=plan.department_id))
        plan.received_amount, plan.status = amount, plan_status(plan.amount, amount)
    return rows


def _prereceipt(rng, session, plans, today):
    """One customer paid in advance: half of it is applied to his first open plan."""
    open_plans = [plan for plan in plans if plan.status == "unpaid"]
    if not open_plans:
        return
    plan = rng.choice(open_plans)
    amount = quantize(plan.amount * Decimal("0.8"), plan.currency)
    applied = quantize(amount / 2, plan.currency)
    prereceipt = Prereceipt(customer_id=plan.customer_id, currency=plan.currency, amount=amount,
                            applied_amount=applied, received_on=today - dt.timedelta(days=20), method="bank_transfer",
                            reference="预收 ADV-001", note="预付货款 Advance payment", custom={},
                            owner_id=plan.owner_id, department_id=plan.department_id)
    session.add(prereceipt)
    session.flush()
    payment = Payment(plan_id=plan.id, contract_id=plan.contract_id, order_id=plan.order_id,
                      customer_id=plan.customer_id, currency=plan.currency, amount=applied,
                      received_on=today - dt.timedelta(days=10), method="prereceipt", prereceipt_id=prereceipt.id,
                      reference=prereceipt.reference, overpayment=False, custom={}, owner_id=plan.owner_id,
                      department_id=plan.department_id)
    session.add(payment)
    session.flush()
    session.add(PrereceiptApplication(prereceipt_id=prereceipt.id, plan_id=plan.id, payment_id=payment.id,
                                      amount=applied, applied_on=payment.received_on))
    session.flush()
