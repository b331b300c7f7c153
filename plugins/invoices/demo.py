"""Demo invoices (``demo_data`` hook): for about half of the demo contracts and orders an approved request and
its invoice, partly invoiced; a few requests waiting or approved; now and then a void invoice, so the chain
shows every state.

Runs after the contracts and orders demos (it reads their flushed rows); writes in bulk, no commit.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from core.db import utcnow
from core.models import Customer
from core.money import quantize
from plugins.invoices.models import Invoice, InvoiceRequest
from plugins.invoices.schemas import credit_code_check_character
from plugins.invoices.services import compute_tax

BANKS = ["中国工商银行上海分行", "招商银行深圳分行", "中国建设银行北京分行", "交通银行杭州分行"]
MAX_SOURCES = 40


def _credit_code(rng) -> str:
    first17 = "9131" + "".join(rng.choice("0123456789") for _ in range(4)) + "".join(
        rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return first17 + credit_code_check_character(first17)


def _sources(session):
    from plugins.contracts.models import Contract
    from plugins.orders.models import Order
    contracts = session.execute(select(Contract).where(Contract.status != "cancelled").order_by(Contract.id)
                                .limit(MAX_SOURCES)).scalars().all()
    orders = session.execute(select(Order).where(Order.contract_id.is_(None), Order.status != "cancelled")
                             .order_by(Order.id).limit(MAX_SOURCES)).scalars().all()
    return [("contract_id", c, c.amount) for c in contracts] + [("order_id", o, o.total) for o in orders]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"invoices-{seed}")
    sources = [s for s in _sources(session) if s[2] and s[2] > 0]
    if not sources:
        return
    names = dict(session.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_({record.customer_id for _c, record, _a in sources}))).all())
    details = {}  # one set of invoicing details per customer, reused by each of its requests
    numbers = rng.sample(range(10_000_000, 99_999_999), len(sources))
    requests, invoices = [], []
    for index, (column, record, amount) in enumerate(sources):
        if rng.random() < 0.45:
            continue
        info = details.setdefault(record.customer_id, {
            "type": rng.choice(["normal", "special"]), "title": names.get(record.customer_id) or "—",
            "tax_number": _credit_code(rng), "bank": rng.choice(BANKS),
            "bank_account": "".join(rng.choice("0123456789") for _ in range(16)),
            "address_phone": f"上海市浦东新区张江路{rng.randint(1, 999)}号 021-{rng.randint(50000000, 69999999)}"})
        share = quantize(amount * Decimal(rng.choice([30, 50, 100])) / 100, record.currency)
        common = {column: record.id, "customer_id": record.customer_id, "currency": record.currency, **info,
                  "owner_id": record.owner_id, "department_id": record.department_id}
        waiting = rng.random() < 0.25  # some still waiting for approval, some approved but not issued yet
        status = rng.choice(["requested", "approved"]) if waiting else "issued"
        request = InvoiceRequest(amount=share, status=status, custom={}, note="示例开票申请 Demo request", **common)
        if status != "requested":
            request.decided_by_id, request.decided_at = record.owner_id, utcnow()
        requests.append(request)
        if waiting:
            continue
        issued_on = today - dt.timedelta(days=rng.randint(0, 60))
        invoice = Invoice(number=f"{numbers[index]:08d}", issued_on=issued_on, amount=share,
                          tax_rate=Decimal("13.00"), tax_amount=compute_tax(share, Decimal("13.00"), record.currency),
                          status="issued", over_invoice=False, custom={}, **common)
        if index % 11 == 0:  # now and then an invoice printed wrong and voided
            invoice.status, invoice.void_reason = "void", "开票信息有误 Wrong buyer details"
            invoice.voided_by_id, invoice.voided_at = record.owner_id, utcnow()
        invoices.append((invoice, request))
    session.add_all(requests)
    session.flush()
    for invoice, request in invoices:
        invoice.request_id = request.id
    session.add_all([invoice for invoice, _request in invoices])
    session.flush()
