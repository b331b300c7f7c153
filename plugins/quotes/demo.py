"""Demo quotes (``demo_data`` hook): ~30 quotes to customers of the sales staff, with two to five lines of
the demo products, over every status (a few with a second revision), so contracts and orders have
accepted quotes to start from."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from core import demo as core_demo
from core.models import Product
from core.numbering import reserve_numbers
from plugins.quotes.models import Quote, QuoteLine
from plugins.quotes.services import NUMBER_KEY, NUMBER_PREFIX, _amounts, _totals

COUNT = 30
STATUS_WEIGHTS = {"draft": 5, "sent": 8, "accepted": 9, "rejected": 4, "expired": 4}
TITLES = ["办公设备采购报价", "年度备件供货报价", "网络设备升级方案报价", "生产线改造设备报价", "Annual maintenance quote",
          "Warehouse equipment quotation", "服务器及存储扩容报价", "IT 外包服务报价"]
TERMS = "付款方式：合同签订后预付 30%，到货验收后付 70%。\n交货期：收到预付款后 15 个工作日。\nPrices include delivery."


def generate(session, users, customers, seed, today):
    rng = random.Random(f"quotes-{seed}")
    staff = {user.id: user for user in core_demo.sales_staff(users)}
    owned = [(customer, contacts) for customer, contacts in customers if customer.owner_id in staff and contacts]
    products = list(session.execute(select(Product).where(Product.active.is_(True), Product.currency == "CNY")
                                    .order_by(Product.id)).scalars())
    if not owned or not products:
        return
    picked = rng.sample(owned, min(COUNT, len(owned)))
    numbers = reserve_numbers(session, NUMBER_KEY, NUMBER_PREFIX, len(picked), on=today)
    quotes = []
    for number, (customer, contacts) in zip(numbers, picked):
        owner = staff[customer.owner_id]
        status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
        created = core_demo.random_moment(rng, today, 90 if status in ("accepted", "rejected", "expired") else 20)
        quote = _quote(rng, number, 1, customer, contacts, owner, status, created, today, products)
        quotes.append(quote)
        if status in ("accepted", "rejected") and rng.random() < 0.25:
            # the customer asked for a better price: revision 2 replaced the first offer
            quote.superseded, quote.status = True, "sent"
            quotes.append(_quote(rng, number, 2, customer, contacts, owner, status, created + dt.timedelta(days=3),
                                 today, products, parent=quote))
    session.add_all(quotes)
    session.flush()


def _quote(rng, number, revision, customer, contacts, owner, status, created, today, products, parent=None):
    validity = created.date() + dt.timedelta(days=30)
    if status == "expired":
        validity = min(validity, today - dt.timedelta(days=rng.randint(1, 20)))
    elif status in ("draft", "sent"):
        validity = max(validity, today + dt.timedelta(days=rng.randint(5, 30)))
    quote = Quote(number=number, revision=revision, parent=parent, customer_id=customer.id,
                  contact_id=contacts[0].id, title=rng.choice(TITLES), currency="CNY", valid_until=validity,
                  status=status, terms=TERMS, owner_id=owner.id, department_id=owner.department_id,
                  created_at=created, updated_at=created, custom={},
                  sent_at=created + dt.timedelta(hours=2) if status != "draft" else None,
                  decided_at=created + dt.timedelta(days=5) if status in ("accepted", "rejected") else None)
    lines = []
    for position, product in enumerate(rng.sample(products, min(rng.randint(2, 5), len(products))), start=1):
        discount = Decimal(rng.choice([0, 0, 5, 10])) if revision == 1 else Decimal(rng.choice([10, 15]))
        line = QuoteLine(position=position, product_id=product.id, description=product.name,
                         quantity=Decimal(rng.choice([1, 2, 5, 10, 20, 50])), unit=product.unit,
                         unit_price=product.price, discount_percent=discount, tax_rate_percent=Decimal("13"),
                         owner_id=owner.id, department_id=owner.department_id, created_at=created,
                         updated_at=created)
        lines.append(_amounts(line, "CNY"))
    quote.lines = lines
    _totals(quote)
    return quote
