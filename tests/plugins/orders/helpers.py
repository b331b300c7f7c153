"""Shared set-up of the orders tests: customers, contacts, products, contracts, quotes and orders."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

from sqlalchemy import select

from core.models import Contact, Customer, Product
from plugins.orders.models import Order


def customer(session, owner, name="华宏贸易 Huahong Trading"):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def contact(session, of_customer, owner, name="王经理 Manager Wang", email="wang@example.com"):
    record = Contact(name=name, customer_id=of_customer.id, owner_id=owner.id, department_id=owner.department_id,
                     email=email)
    session.add(record)
    session.commit()
    return record


def product(session, code="P-1", name="工业传感器 Sensor", price="100.00", currency="CNY", unit="个"):
    record = Product(code=code, name=name, price=Decimal(price), currency=currency, unit=unit, active=True)
    session.add(record)
    session.commit()
    return record


def contract(session, of_customer, owner, currency="CNY", amount="1000.00", number="HT-TEST-1", **extra):
    from plugins.contracts.models import Contract
    record = Contract(number=number, title="年度供货合同", customer_id=of_customer.id, currency=currency,
                      amount=Decimal(amount), status="active", owner_id=owner.id, department_id=owner.department_id,
                      custom={}, **extra)
    session.add(record)
    session.commit()
    return record


def quote(session, of_customer, owner, status="accepted", lines=(("Sensor", "2", "50.00", "10", "13"),), **extra):
    from core.money import line_amounts
    from plugins.quotes.models import Quote, QuoteLine
    record = Quote(number=f"QT-T-{uuid.uuid4().hex[:10]}", title="报价 Offer", customer_id=of_customer.id,
                   currency="CNY", status=status, owner_id=owner.id, department_id=owner.department_id, custom={},
                   **extra)
    for position, (description, quantity, price, discount, rate) in enumerate(lines, start=1):
        amounts = line_amounts(Decimal(quantity), Decimal(price), Decimal(discount), Decimal(rate), "CNY")
        record.lines.append(QuoteLine(position=position, description=description, quantity=Decimal(quantity),
                                      unit_price=Decimal(price), discount_percent=Decimal(discount),
                                      tax_rate_percent=Decimal(rate), net=amounts.net, tax=amounts.tax,
                                      gross=amounts.gross, owner_id=owner.id, department_id=owner.department_id))
    record.subtotal = sum(line.net for line in record.lines)
    record.tax_total = sum(line.tax for line in record.lines)
    record.total = sum(line.gross for line in record.lines)
    session.add(record)
    session.commit()
    return record


def line_fields(lines):
    """Form fields ``lines-<n>-<field>`` of ``lines`` (dicts)."""
    data = {}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def create_order(client, csrf, customer_id, lines, expect=302, **header):
    token = csrf(client, "/orders/new")
    data = {"csrf_token": token, "customer_id": str(customer_id), "status": "confirmed", **header,
            **line_fields(lines)}
    response = client.post("/orders/new", data=data)
    assert response.status_code == expect, response.get_data(as_text=True)[:3000]
    if expect != 302:
        return response
    return int(re.search(r"/r/order/(\d+)", response.headers["Location"]).group(1))


def fresh(session):
    """The session in a new transaction: what other connections committed is visible (MariaDB's REPEATABLE
    READ would keep showing the snapshot of the transaction's first read)."""
    session.rollback()
    return session


def reload(session, order_id) -> Order:
    session.rollback()
    session.expire_all()
    return session.execute(select(Order).where(Order.id == order_id)
                           .execution_options(include_deleted=True)).unique().scalar_one()


SENSOR = {"description": "工业传感器 Sensor", "quantity": "10", "unit": "个", "unit_price": "19.99",
          "discount_percent": "5", "tax_rate_percent": "13"}
CABLE = {"description": "电缆 Cable", "quantity": "3.5", "unit": "m", "unit_price": "2.50", "tax_rate_percent": "6"}
TODAY = dt.date.today()
