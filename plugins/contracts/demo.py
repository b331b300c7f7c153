"""Demo contracts (``demo_data`` hook): accepted demo quotes become contracts, and a dozen more contracts of
every status — some ending soon, one already renewed — each with a delivery plan (交付计划) of two to four
milestones, a few of them overdue. Written in bulk: numbers reserved at once, two flushes."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from core import demo as core_demo
from core.numbering import reserve_numbers
from plugins.contracts.models import Contract, DeliveryPlan
from plugins.contracts.services import NUMBER_KEY, NUMBER_PREFIX

COUNT = 12
TITLES = ["设备采购合同", "年度维保服务合同", "软件许可及实施合同", "Equipment supply agreement", "系统集成项目合同",
          "Annual maintenance contract", "备品备件框架协议", "技术服务合同"]
MILESTONES = [("设备到货", "主机 ×1，配套附件"), ("安装调试", "现场安装、调试"), ("培训验收", "操作培训 2 天，验收报告"),
              ("Documentation", "Manuals and drawings"), ("质保期服务", "12 个月质保")]
STATUSES = ["active", "active", "active", "active", "draft", "draft", "completed", "terminated", "cancelled"]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"contracts-{seed}")
    staff = {user.id: user for user in core_demo.sales_staff(users)}
    owned = [(customer, contacts) for customer, contacts in customers if customer.owner_id in staff]
    if not owned:
        return
    quotes = _accepted_quotes(session)
    numbers = iter(reserve_numbers(session, NUMBER_KEY, NUMBER_PREFIX, COUNT + len(quotes), on=today))
    contracts = [_from_quote(quote, next(numbers), today) for quote in quotes]
    for index in range(COUNT):
        customer, contacts = rng.choice(owned)
        contracts.append(_contract(rng, index, customer, contacts, next(numbers), today))
    session.add_all(contracts)
    session.flush()
    renewed = next((c for c in contracts if c.status == "completed"), None)
    follow = next((c for c in contracts if c.status == "draft" and c.quote_id is None), None)
    if renewed is not None and follow is not None:  # one renewal chain to show
        follow.previous_id, follow.customer_id, follow.contact_id = renewed.id, renewed.customer_id, renewed.contact_id
        follow.owner_id, follow.department_id = renewed.owner_id, renewed.department_id
    session.add_all([plan for contract in contracts for plan in _plans(rng, contract, today)])
    session.add_all(_conversions(contracts))
    session.flush()


def _conversions(contracts):
    """What the quotes' pages show as "converted into": one row per contract made from a quote."""
    from plugins.quotes.models import QuoteConversion
    return [QuoteConversion(quote_id=c.quote_id, target_entity="contract", target_id=c.id, created_by_id=c.owner_id)
            for c in contracts if c.quote_id is not None]


def _accepted_quotes(session):
    """Accepted demo quotes not converted yet (empty when the quotes demo has not run)."""
    try:
        from plugins.quotes.models import Quote
    except ImportError:
        return []
    converted = select(Contract.quote_id).where(Contract.quote_id.is_not(None))
    return list(session.execute(select(Quote).where(Quote.status == "accepted", Quote.superseded.is_(False),
                                                    Quote.id.not_in(converted)).limit(6)).unique().scalars())


def _from_quote(quote, number, today):
    starts = today - dt.timedelta(days=20)
    return Contract(number=number, title=quote.title, customer_id=quote.customer_id, contact_id=quote.contact_id,
                    quote_id=quote.id, opportunity_id=quote.opportunity_id, project_id=quote.project_id,
                    currency=quote.currency, amount=quote.total, status="active", signed_on=starts,
                    starts_on=starts, ends_on=starts + dt.timedelta(days=364), terms=quote.terms,
                    owner_id=quote.owner_id, department_id=quote.department_id, custom={})


def _contract(rng, index, customer, contacts, number, today):
    status = STATUSES[index % len(STATUSES)]
    # the first three end within a month (the "expiring soon" list and tile), the rest later or earlier
    if index < 3:
        ends = today + dt.timedelta(days=rng.randint(-2, 28))
    elif status in ("completed", "terminated"):
        ends = today - dt.timedelta(days=rng.randint(10, 120))
    else:
        ends = today + dt.timedelta(days=rng.randint(60, 400))
    starts = ends - dt.timedelta(days=364)
    signed = None if status in ("draft", "cancelled") else starts - dt.timedelta(days=rng.randint(3, 20))
    amount = Decimal(rng.randrange(20, 900) * 1000)
    created = core_demo.random_moment(rng, min(today, starts), 10)
    return Contract(number=number, title=rng.choice(TITLES), customer_id=customer.id,
                    contact_id=contacts[0].id if contacts else None, currency="CNY", amount=amount, status=status,
                    signed_on=signed, starts_on=starts, ends_on=ends,
                    renewal_on=ends - dt.timedelta(days=30) if status == "active" else None,
                    terms="付款方式：合同签订后预付 30%，到货验收后付 60%，质保期满付 10%。",
                    owner_id=customer.owner_id, department_id=customer.department_id, custom={},
                    created_at=created, updated_at=created)


def _plans(rng, contract, today):
    steps = rng.sample(MILESTONES, rng.randint(2, 4))
    share = (contract.amount / len(steps)).quantize(Decimal("1"))
    start = contract.starts_on or today
    rows = []
    for position, (title, items) in enumerate(steps, start=1):
        due = start + dt.timedelta(days=30 * position + rng.randint(0, 20))
        delivered = contract.status == "completed" or (contract.status == "active" and due < today
                                                       and rng.random() < 0.6)  # the others: overdue
        rows.append(DeliveryPlan(contract_id=contract.id, position=position, title=title, items=items,
                                 amount=share if position < len(steps) else None, due_on=due,
                                 status="delivered" if delivered else "planned",
                                 delivered_on=min(due, today) if delivered else None))
    return rows
