"""The retail importer on 300 real lines of the UCI Online Retail file (tests/plugins/orders/data): counts,
exact Decimal totals against a computation made here, cancellations, walk-in customers, a split invoice,
idempotency, the importer's scope, the command line and the job."""
from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.models import AuditEntry, Customer, Product
from core.scope import build_user_scope
from core.services import Forbidden
from plugins.orders.models import Order, OrderLine
from plugins.orders.retail_import import (
    RetailImportError, import_retail, import_retail_command, import_retail_job,
)

SAMPLE = Path(__file__).parent / "data" / "onlineretail_sample.csv"
CENT = Decimal("0.01")


def expected_from_file():
    """What the file says, computed independently: per InvoiceNo (not "A…") its customer code, lines and
    total = sum of quantity x unit price, each rounded half-up to the penny."""
    invoices = defaultdict(lambda: {"lines": 0, "total": Decimal(0), "customer": None})
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["InvoiceNo"].startswith("A"):
                continue
            unit_price = Decimal(row["UnitPrice"]).quantize(CENT, rounding=ROUND_HALF_UP)
            invoice = invoices[row["InvoiceNo"]]
            invoice["lines"] += 1
            invoice["total"] += (Decimal(row["Quantity"]) * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
            invoice["customer"] = row["CustomerID"] or f"WALK-IN {row['Country']}"
    return invoices


def run(app, gx, user, source=SAMPLE, **kwargs):
    """The import in ``user``'s data scope (None: system scope), as a request or a job would run it."""
    with app.app_context():
        session = gx.new_session()
        try:
            if user is None:
                from core.scope import system_scope
                with system_scope(session, "test: retail import"):
                    return import_retail(session, source, registry=gx.entities, **kwargs)
            from core.models import User
            from core.scope import set_scope, system_scope
            with system_scope(session, "test: load importer"):
                importer = session.execute(select(User).where(User.id == user.id)).scalar_one()
                scope = build_user_scope(session, importer, gx.entities, gx.hook)
            set_scope(session, scope)
            return import_retail(session, source, registry=gx.entities, **kwargs)
        finally:
            session.close()


def orders_by_ref(system_session):
    return {o.external_ref: o for o in system_session.execute(
        select(Order).execution_options(populate_existing=True)).scalars()}


def test_import_creates_customers_products_orders_with_exact_totals(app, gx, org, system_session):
    expected = expected_from_file()
    stats = run(app, gx, org.boss, owner_id=org.rep_east.id)

    orders = orders_by_ref(system_session)
    assert set(orders) == set(expected)
    assert stats.orders_created == len(expected) and stats.orders_existing == 0
    assert stats.lines_read == 300 and stats.adjustment_lines == 1 and stats.bad_lines == 0
    assert stats.lines_created == sum(e["lines"] for e in expected.values()) == 299
    for ref, order in orders.items():
        assert order.total == order.subtotal == expected[ref]["total"], ref
        assert order.tax_total == 0 and order.currency == "GBP"
        assert order.customer.code == expected[ref]["customer"]
        assert (order.owner_id, order.department_id) == (org.rep_east.id, org.rep_east.department_id)
        assert order.number.startswith(f"SO-{order.ordered_on.year}-") and len(order.number) == 14
    # every line: net = quantity x stored unit price, rounded once; totals are their exact sums
    lines = system_session.execute(select(OrderLine)).scalars().all()
    assert len(lines) == 299
    for line in lines:
        assert line.net == line.gross == (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        assert line.tax == 0
    numbers = sorted(o.number for o in orders.values())
    assert numbers[0] == "SO-2010-000001" and len(set(numbers)) == len(numbers)

    codes = {c.code: c for c in system_session.execute(select(Customer)).scalars()}
    assert set(codes) == {e["customer"] for e in expected.values()}
    assert codes["17850"].name == "Customer 17850" and codes["17850"].address == "United Kingdom"
    assert codes["WALK-IN EIRE"].name == "Walk-in (EIRE)"
    assert {(c.owner_id, c.department_id) for c in codes.values()} == {(org.rep_east.id,
                                                                         org.rep_east.department_id)}
    assert stats.customers_created == len(codes) and stats.walk_in_customers_created == 2
    # audit trail: one "import" entry per created record
    audited = system_session.execute(select(AuditEntry.entity, func.count()).where(AuditEntry.action == "import")
                                     .group_by(AuditEntry.entity)).all()
    assert dict(audited) == {"customer": len(codes), "product": stats.products_created, "order": len(expected)}


def test_cancellations_walk_ins_rounding_and_case_insensitive_codes(app, gx, org, system_session):
    stats = run(app, gx, None, owner_id=org.rep_west.id)
    orders = orders_by_ref(system_session)
    cancelled = {ref for ref, o in orders.items() if o.status == "cancelled"}
    assert cancelled == {"C536379", "C536383", "C536391", "C542805"} and stats.orders_cancelled == 4
    assert orders["C536391"].total == Decimal("-82.08")  # negative, as in the file
    assert all(line.shipped_quantity == 0 for line in orders["C536391"].lines)
    assert {o.status for ref, o in orders.items() if ref not in cancelled} == {"completed"}
    assert all(line.shipped_quantity == line.quantity for line in orders["536365"].lines)
    # lines without CustomerID: one walk-in customer per country
    assert orders["536544"].customer.code == orders["536982"].customer.code == "WALK-IN United Kingdom"
    assert stats.lines_without_customer == 1 + 12 + 1 + 3
    # 0.001 GBP is not a price in pennies: rounded to 0.00, and said so
    pads = orders["550193"].lines[0]
    assert (pads.unit_price, pads.net) == (Decimal("0.00"), Decimal("0.00")) and stats.prices_rounded == 1
    # "85123a" is the product "85123A"
    products = system_session.execute(select(Product.code)).scalars().all()
    assert "85123A" in products and "85123a" not in products
    assert len({p.upper() for p in products}) == len(products) == stats.products_created
    assert orders["536982"].lines[0].product.code == "85123A"
    # the product's first line gives its name and price
    heart = system_session.execute(select(Product).where(Product.code == "85123A")).scalar_one()
    assert (heart.name, heart.price, heart.currency) == ("WHITE HANGING HEART T-LIGHT HOLDER", Decimal("2.55"), "GBP")


@pytest.mark.parametrize("batch_lines", [1, 37])
def test_batches_and_a_split_invoice_give_the_same_result(app, gx, org, system_session, batch_lines):
    expected = expected_from_file()
    stats = run(app, gx, None, owner_id=org.rep_west.id, batch_lines=batch_lines)
    orders = orders_by_ref(system_session)
    assert {ref: (o.total, len(o.lines)) for ref, o in orders.items()} == {
        ref: (e["total"], e["lines"]) for ref, e in expected.items()}
    split = orders["542806"]  # 4 lines, a cancellation, then 35 more lines of the same invoice
    assert [line.position for line in split.lines] == list(range(1, 40))
    if batch_lines == 1:
        assert stats.orders_continued == 1 and split.version == 2


def test_importing_twice_creates_nothing_new(app, gx, org, system_session):
    first = run(app, gx, org.rep_east)
    counts = {model: system_session.execute(select(func.count()).select_from(model)).scalar_one()
              for model in (Order, OrderLine, Customer, Product, AuditEntry)}
    second = run(app, gx, org.rep_east)
    assert (second.orders_created, second.lines_created, second.customers_created, second.products_created) == \
        (0, 0, 0, 0)
    assert second.orders_existing == first.orders_created
    assert counts == {model: system_session.execute(select(func.count()).select_from(model)).scalar_one()
                      for model in (Order, OrderLine, Customer, Product, AuditEntry)}


def test_scope_owner_and_invisible_customers(app, gx, org, system_session):
    # a salesperson may not make another salesperson the owner
    with pytest.raises(Forbidden):
        run(app, gx, org.rep_east, owner_id=org.rep_west.id)
    assert system_session.execute(select(func.count()).select_from(Order)).scalar_one() == 0
    # a customer of the West team already carries code 17850: East's import leaves it (and its invoices) alone
    other = Customer(name="West's customer", code="17850", owner_id=org.rep_west.id,
                     department_id=org.rep_west.department_id)
    system_session.add(other)
    system_session.commit()
    stats = run(app, gx, org.rep_east)
    lines_17850 = sum(1 for row in csv.DictReader(open(SAMPLE, encoding="utf-8")) if row["CustomerID"] == "17850")
    assert stats.lines_out_of_scope == lines_17850 > 0
    assert system_session.execute(select(func.count()).select_from(Order).where(
        Order.customer_id == other.id)).scalar_one() == 0
    owners = system_session.execute(select(Order.owner_id).distinct()).scalars().all()
    assert owners == [org.rep_east.id]
    # a salesperson may not add to the product catalogue: lines keep their description, without a product
    assert stats.products_created == 0 and stats.lines_without_product == stats.lines_created > 0
    assert system_session.execute(select(func.count()).select_from(OrderLine).where(
        OrderLine.product_id.is_(None), OrderLine.description != "")).scalar_one() > 0
    system_session.refresh(other)
    assert (other.name, other.owner_id) == ("West's customer", org.rep_west.id)


def test_gzip_stream_bad_header_and_bad_lines(app, gx, org, system_session):
    raw = SAMPLE.read_bytes()
    lines = raw.decode().splitlines()
    broken = "\n".join([*lines[:3], "536999,22000,BROKEN,six,2010-12-01 08:26,1.00,17850,United Kingdom"]) + "\n"
    stats = run(app, gx, None, source=io.BytesIO(gzip.compress(broken.encode())), owner_id=org.boss.id)
    assert (stats.orders_created, stats.lines_created, stats.bad_lines) == (1, 2, 1)
    assert stats.errors and stats.errors[0][0] == 4
    with pytest.raises(RetailImportError):
        run(app, gx, None, source=io.BytesIO(b"a,b,c\n1,2,3\n"), owner_id=org.boss.id)


def test_command_line_and_job(app, gx, org, system_session):
    with app.app_context():
        result = CliRunner().invoke(import_retail_command, [str(SAMPLE), "--owner", "rep_west"])
    assert result.exit_code == 0, result.output
    assert "orders_created: 34" in result.output
    assert system_session.execute(select(func.count()).select_from(Order)).scalar_one() == 34
    with app.app_context(), gx.system_session("test: job") as session:
        outcome = import_retail_job(session, str(SAMPLE), importer_id=org.rep_west.id)
    assert outcome["orders_created"] == 0 and outcome["orders_existing"] == 34
    with app.app_context():
        refused = CliRunner().invoke(import_retail_command, [str(SAMPLE), "--owner", "nobody"])
    assert refused.exit_code == 1 and "no user" in refused.output
