"""Builders shared by the invoices tests: customers, contracts, orders and payments written straight into the
database (the upstream modules' own tests cover their forms), and the invoices forms driven through HTTP."""
from __future__ import annotations

import datetime as dt
import html as html_lib
import itertools
import re
from decimal import Decimal

from sqlalchemy import func, select

from core.models import Customer

VALID_TAX_NUMBER = "91350100M000100Y43"  # a real-format 统一社会信用代码 with a correct check character
OTHER_TAX_NUMBER = "91110000600037341L"
_numbers = itertools.count(1)


def owned(owner):
    return {"owner_id": owner.id, "department_id": owner.department_id}


def make_customer(session, owner, name="上海远景科技 Vista Tech"):
    record = Customer(name=name, **owned(owner))
    session.add(record)
    session.commit()
    return record


def make_contract(session, owner, customer, amount="10000.00", currency="CNY", **extra):
    from plugins.contracts.models import Contract
    record = Contract(number=f"HT-T-{next(_numbers):05d}", title="设备采购合同 Equipment", customer_id=customer.id,
                      currency=currency, amount=Decimal(amount), status="active", custom={}, **owned(owner), **extra)
    session.add(record)
    session.commit()
    return record


def make_order(session, owner, customer, total="2000.00", currency="CNY", contract=None):
    from plugins.orders.models import Order
    record = Order(number=f"SO-T-{next(_numbers):06d}", customer_id=customer.id, currency=currency,
                   contract_id=contract.id if contract else None, status="confirmed", ordered_on=dt.date.today(),
                   subtotal=Decimal(total), tax_total=Decimal("0.00"), total=Decimal(total), custom={},
                   **owned(owner))
    session.add(record)
    session.commit()
    return record


def make_payment(session, owner, parent, amount="1000.00"):
    """A plan on ``parent`` (a contract or an order) and one payment received on it."""
    from plugins.contracts.models import Contract
    from plugins.payments.models import Payment, PaymentPlan
    link = {"contract_id": parent.id} if isinstance(parent, Contract) else {"order_id": parent.id}
    plan = PaymentPlan(customer_id=parent.customer_id, currency=parent.currency, instalment=1, title="首付款",
                       due_on=dt.date.today(), amount=Decimal(amount), received_amount=Decimal(amount),
                       status="paid", **link, **owned(owner))
    session.add(plan)
    session.flush()
    payment = Payment(plan_id=plan.id, customer_id=parent.customer_id, currency=parent.currency,
                      amount=Decimal(amount), received_on=dt.date.today(), custom={}, **link, **owned(owner))
    session.add(payment)
    session.commit()
    return payment


def post_form(client, csrf, entity, **fields):
    token = csrf(client, f"/r/{entity}/new")
    return client.post(f"/r/{entity}/new", data={"csrf_token": token, **{k: v for k, v in fields.items()
                                                                           if v is not None}})


def created_id(response, entity) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.search(rf"/r/{entity}/(\d+)", response.headers["Location"]).group(1))


def request_invoice(client, csrf, source, amount="1000.00", **fields):
    column = {"Contract": "contract_id", "Order": "order_id", "Payment": "payment_id"}[type(source).__name__]
    fields = {"type": "normal", "title": "上海远景科技有限公司", "tax_number": VALID_TAX_NUMBER, **fields}
    return post_form(client, csrf, "invoice_request", **{column: source.id, "amount": amount}, **fields)


def record_invoice(client, csrf, source=None, amount="1000.00", number=None, **fields):
    column = {"Contract": "contract_id", "Order": "order_id", "Payment": "payment_id"}[type(source).__name__] \
        if source is not None else None
    values = {"number": number or f"{next(_numbers):08d}", "amount": amount, "type": "normal", **fields}
    if column:
        values[column] = source.id
    return post_form(client, csrf, "invoice", **values)


def field_error(html: str, name: str) -> str:
    """The text of the error block under field ``name`` of a generic form ('' when none)."""
    match = re.search(rf'id="f-{name}-errors" data-field="{name}">(.*?)</div>\s*(?:</div>|$)', html, re.S)
    assert match, f"no error block for {name}"
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def count(session, model) -> int:
    session.rollback()
    return session.execute(select(func.count()).select_from(model).execution_options(include_deleted=True)
                           ).scalar_one()


def reload(session, model, record_id):
    session.rollback()
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id)).unique().scalar_one()


def set_language(session, user, language):
    from core.models import User
    fresh = session.execute(select(User).where(User.id == user.id)).scalar_one()
    fresh.language = language
    session.commit()
