"""Shared set-up of the contracts tests: customers, contacts, quotes and contracts made quickly."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from core.models import Contact, Customer


def make_customer(session, owner, name="华东机电 East Machinery"):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def make_contact(session, customer, owner, name="刘工 Engineer Liu"):
    record = Contact(name=name, customer_id=customer.id, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def make_quote(session, owner, customer, contact=None, status="accepted", total="12345.60", currency="USD",
               number="QT-2026-0001", **extra):
    from plugins.quotes.models import Quote
    quote = Quote(number=number, revision=1, customer_id=customer.id, contact_id=contact.id if contact else None,
                  title="五轴加工中心 5-axis machining centre", currency=currency, status=status,
                  subtotal=Decimal(total), tax_total=Decimal("0"), total=Decimal(total), terms="30% 预付款",
                  owner_id=owner.id, department_id=owner.department_id, **extra)
    session.add(quote)
    session.commit()
    return quote


def create_contract(client, csrf, customer, amount="1000.00", expect=302, **fields):
    token = csrf(client, "/r/contract/new")
    data = {"csrf_token": token, "title": "设备采购合同 Equipment purchase", "customer_id": customer.id,
            "currency": "CNY", "amount": amount, **fields}
    response = client.post("/r/contract/new", data=data)
    assert response.status_code == expect, response.get_data(as_text=True)[:3000]
    if expect != 302:
        return response
    return int(re.search(r"/r/contract/(\d+)", response.headers["Location"]).group(1))


def reload(session, model, record_id):
    """The row as committed now (a fresh snapshot: MariaDB reads repeatably inside one transaction)."""
    session.rollback()
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id)
                           .execution_options(include_deleted=True)).unique().scalar_one()


def field_error(html, element_id):
    """The text of the error block ``element_id`` of a form."""
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</div>", html.index(">", start) + 1) + 6]
