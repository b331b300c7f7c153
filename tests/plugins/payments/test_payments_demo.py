"""The demo company gets payment plans on its contracts and orders, payments and a pre-receipt, with stored totals
that agree with the rows."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import demo
from plugins.payments.models import Payment, PaymentPlan, Prereceipt, plan_status


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    monkeypatch.setattr(demo, "hash_password", lambda password: "not-a-real-hash")  # argon2: speed only


def test_demo_payments_agree_with_their_plans(app, gx):
    with app.test_request_context(), gx.system_session("test demo") as session:
        demo.generate(session, seed=7, customers=60, today=dt.date(2030, 1, 15))
    with gx.system_session("test: read the demo") as session:
        plans = session.execute(select(PaymentPlan)).scalars().all()
        if not plans:
            pytest.skip("the contracts/orders demos wrote nothing to plan payments on")
        paid = dict(session.execute(select(Payment.plan_id, func.sum(Payment.amount)).group_by(Payment.plan_id)).all())
        assert {p.status for p in plans} >= {"paid", "unpaid"}
        for plan in plans:
            assert plan.received_amount == Decimal(paid.get(plan.id, 0))
            assert plan.status == plan_status(plan.amount, plan.received_amount)
        prereceipt = session.execute(select(Prereceipt)).scalars().one()
        assert 0 < prereceipt.applied_amount < prereceipt.amount

