"""Fixtures of the quotes tests: customers with contacts, products, and quotes made through the real form."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Contact, Customer, Product
from plugins.quotes.models import Quote


@pytest.fixture
def customer_of(gx):
    """``customer_of(owner, name, email=...)`` -> (customer_id, contact_id): a customer with one contact."""
    def make(owner, name="苏州精密机械有限公司", email="wang@example.com"):
        with gx.system_session("test: customer") as session:
            customer = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
            session.add(customer)
            session.flush()
            contact = Contact(name="王经理 Wang", customer_id=customer.id, email=email, owner_id=owner.id,
                              department_id=owner.department_id)
            session.add(contact)
            session.commit()
            return customer.id, contact.id
    return make


@pytest.fixture
def product(gx):
    def make(code="P-001", name="工业传感器 Sensor", price="1250.00", unit="台", currency="CNY"):
        with gx.system_session("test: product") as session:
            record = Product(code=code, name=name, price=Decimal(price), unit=unit, currency=currency)
            session.add(record)
            session.commit()
            return record.id
    return make


def line(index, **values):
    return {f"lines-{index}-{name}": value for name, value in values.items()}


@pytest.fixture
def post_quote(csrf):
    """Submit the quote form; returns the response (``expect`` a status to check it)."""
    def submit(client, customer_id, lines, url="/quotes/new", expect=302, **header):
        data = {"csrf_token": csrf(client, "/"), "title": "生产线设备报价", "customer_id": str(customer_id),
                "currency": "CNY", **header}
        for index, values in enumerate(lines):
            data.update(line(index, **values))
        response = client.post(url, data=data)
        assert response.status_code == expect, response.get_data(as_text=True)[:3000]
        return response
    return submit


@pytest.fixture
def quote_of(post_quote):
    """A quote made through the form by ``client``; returns its id."""
    def make(client, customer_id, lines=None, **header):
        lines = lines or [{"description": "安装调试 Installation", "quantity": "2", "unit_price": "100.00",
                           "tax_rate_percent": "13"}]
        response = post_quote(client, customer_id, lines, **header)
        return int(re.search(r"/r/quote/(\d+)", response.headers["Location"]).group(1))
    return make


@pytest.fixture
def read(gx):
    """Fresh reads under a system scope (what the database holds, not what a page shows)."""
    class Reader:
        def quote(self, quote_id):
            with gx.system_session("test: read quote") as session:
                quote = session.execute(select(Quote).where(Quote.id == quote_id)
                                        .execution_options(include_deleted=True)).unique().scalar_one()
                quote.lines  # loaded while the session is open
                return quote

        def quotes(self):
            with gx.system_session("test: read quotes") as session:
                return list(session.execute(select(Quote).order_by(Quote.id)).unique().scalars())

        def audit(self, quote_id):
            with gx.system_session("test: read audit") as session:
                return [(row.action, row.changes) for row in session.execute(
                    select(AuditEntry).where(AuditEntry.entity == "quote", AuditEntry.record_id == quote_id)
                    .order_by(AuditEntry.id)).scalars()]
    return Reader()


@pytest.fixture
def make_quote(gx, customer_of):
    """``make_quote(owner, status="draft", valid_until=None, total="100")``: a quote written directly (one
    line), for tests that are about what happens to existing quotes."""
    import datetime as dt

    from plugins.quotes.models import QuoteLine
    from plugins.quotes.services import _amounts, _totals

    counter = iter(range(1, 10000))

    def make(owner, status="draft", valid_until=None, price="100", customer_id=None, **columns):
        if customer_id is None:
            customer_id, _contact = customer_of(owner, name=f"客户 {next(counter)}")
        with gx.system_session("test: quote") as session:
            quote = Quote(number=f"QT-T-{next(counter):04d}", customer_id=customer_id, title="测试报价 Test quote",
                          currency="CNY", status=status, custom={},
                          valid_until=valid_until or dt.date.today() + dt.timedelta(days=10),
                          owner_id=owner.id, department_id=owner.department_id, **columns)
            quote.lines = [_amounts(QuoteLine(position=1, description="Item", quantity=Decimal("1"),
                                              unit_price=Decimal(price), discount_percent=Decimal("0"),
                                              tax_rate_percent=Decimal("13"), owner_id=owner.id,
                                              department_id=owner.department_id), "CNY")]
            _totals(quote)
            session.add(quote)
            session.commit()
            return quote.id
    return make
