"""Rows the payments tests start from: customers, contracts and orders written straight into the database (their
own modules' rules are tested there), and small readers of what the payments module stored."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

from sqlalchemy import select

from core.models import Customer
from plugins.contracts.models import Contract
from plugins.orders.models import Order
from plugins.payments.models import Payment, PaymentPlan, Prereceipt

_numbers = itertools.count(1)


def owned(owner):
    return {"owner_id": owner.id, "department_id": owner.department_id}


def make_customer(session, owner, name="华为 Huawei"):
    customer = Customer(name=name, **owned(owner))
    session.add(customer)
    session.commit()
    return customer


def make_contract(session, owner, customer, amount="10000.00", currency="CNY", status="active", **extra):
    contract = Contract(number=f"HT-T-{next(_numbers):05d}", title="设备采购合同 Equipment", customer_id=customer.id,
                        currency=currency, amount=Decimal(amount), status=status, custom={}, **owned(owner), **extra)
    session.add(contract)
    session.commit()
    return contract


def make_order(session, owner, customer, total="5000.00", currency="CNY", contract=None, **extra):
    order = Order(number=f"SO-T-{next(_numbers):06d}", customer_id=customer.id, currency=currency,
                  status="confirmed", ordered_on=dt.date(2026, 1, 5), subtotal=Decimal(total), tax_total=Decimal(0),
                  total=Decimal(total), custom={}, contract_id=contract.id if contract else None, **owned(owner), **extra)
    session.add(order)
    session.commit()
    return order


def fresh(session, model, record_id):
    """The row as committed now (a new snapshot: MariaDB's repeatable read would show an old one)."""
    session.rollback()
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id).execution_options(
        include_deleted=True)).unique().scalar_one()


def created_id(response, entity):
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.search(rf"/r/{entity}/(\d+)", response.headers["Location"]).group(1))


def form_errors(html, field, element_id=None):
    """The HTML right after a field's error container (``f-<field>-errors`` in core's generic form)."""
    marker = f'id="{element_id or f"f-{field}-errors"}"'
    index = html.find(marker)
    return html[index:index + 700] if index >= 0 else ""


def add_plan(client, csrf, parent_field, parent_id, amount, due_on="2026-03-01", **fields):
    token = csrf(client, "/r/payment_plan/new")
    return client.post("/r/payment_plan/new", data={"csrf_token": token, parent_field: parent_id, "amount": amount,
                                                     "due_on": due_on, **fields})


def pay(client, csrf, plan_id, amount, **fields):
    token = csrf(client, "/r/payment/new")
    return client.post("/r/payment/new", data={"csrf_token": token, "plan_id": plan_id, "amount": amount,
                                               "received_on": "2026-03-05", "method": "bank_transfer", **fields})


def payments_of(session, plan_id):
    session.rollback()
    return session.execute(select(Payment).where(Payment.plan_id == plan_id).order_by(Payment.id)).scalars().all()


__all__ = ["Payment", "PaymentPlan", "Prereceipt", "make_customer", "make_contract", "make_order", "fresh",
           "created_id", "form_errors", "add_plan", "pay", "payments_of", "owned"]


def plan_row(session, parent, amount, due_on, owner=None, instalment=1, received="0.00"):
    """A plan written straight to the table (for reports); payments added with ``payment_row`` keep its
    received amount through the module's flush listener."""
    from plugins.payments.models import plan_status
    kind = "contract_id" if isinstance(parent, Contract) else "order_id"
    plan = PaymentPlan(**{kind: parent.id}, customer_id=parent.customer_id, currency=parent.currency,
                       instalment=instalment, due_on=due_on, amount=Decimal(amount), received_amount=Decimal("0.00"),
                       status=plan_status(Decimal(amount), Decimal("0.00")),
                       owner_id=parent.owner_id, department_id=parent.department_id)
    session.add(plan)
    session.flush()
    if Decimal(received) > 0:
        payment_row(session, plan, received)
    session.commit()
    return plan


def payment_row(session, plan, amount, received_on=dt.date(2026, 1, 10)):
    payment = Payment(plan_id=plan.id, contract_id=plan.contract_id, order_id=plan.order_id,
                      customer_id=plan.customer_id, currency=plan.currency, amount=Decimal(amount),
                      received_on=received_on, method="bank_transfer", overpayment=False, custom={},
                      owner_id=plan.owner_id, department_id=plan.department_id)
    session.add(payment)
    session.flush()
    return payment
