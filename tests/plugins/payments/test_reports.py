"""Receivables and the ageing report: buckets on fixed dates, scope, CSV, bounded queries; the chain stages."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from payments_helpers import make_contract, make_customer, make_order, payment_row, plan_row

DAY = dt.date(2026, 6, 30)


def _ageing_fixture(system_session, org):
    east = make_customer(system_session, org.rep_east, "华东客户 East Co")
    west = make_customer(system_session, org.rep_west, "West Co")
    contract = make_contract(system_session, org.rep_east, east, amount="100000.00")
    plan = lambda amount, due, received="0.00": plan_row(system_session, contract, amount, due, received=received)
    plan("100.00", dt.date(2026, 7, 1))                      # not yet due
    plan("200.00", DAY)                                     # due today: 0 days -> 0–30
    plan("300.00", DAY - dt.timedelta(days=30), "50.00")    # 30 days -> 0–30, 250 outstanding
    plan("400.00", DAY - dt.timedelta(days=31))             # 31 days -> 31–60
    plan("500.00", DAY - dt.timedelta(days=90))             # 90 days -> 61–90
    plan("600.00", DAY - dt.timedelta(days=91))             # 91 days -> 90+
    plan("700.00", DAY - dt.timedelta(days=200), "700.00")  # paid: not outstanding
    west_order = make_order(system_session, org.rep_west, west, total="9000.00", currency="USD")
    plan_row(system_session, west_order, "9000.00", DAY - dt.timedelta(days=45))
    return east, west


def test_ageing_buckets_on_fixed_dates(org, app, system_session):
    from plugins.payments import services
    east, west = _ageing_fixture(system_session, org)
    report = services.ageing(system_session, DAY)
    rows = {(r["customer_id"], r["currency"]): r for r in report["rows"]}
    east_row = rows[(east.id, "CNY")]
    assert [east_row[b] for b in services.BUCKETS] == [Decimal(x) for x in ("100", "450", "400", "500", "600")]
    assert east_row["total"] == Decimal("2050.00")
    assert rows[(west.id, "USD")]["d31_60"] == Decimal("9000.00")
    assert report["totals"]["CNY"]["total"] == Decimal("2050.00") and report["totals"]["USD"]["total"] == Decimal("9000")


def test_ageing_page_csv_and_scope(org, app, client_as, system_session, count_queries):
    east, west = _ageing_fixture(system_session, org)
    rep = client_as(org.rep_east)
    html = rep.get(f"/payments/ageing?on={DAY.isoformat()}").get_data(as_text=True)
    assert "华东客户 East Co" in html and "West Co" not in html and 'data-chart-type="bar"' in html
    assert "chart.umd.min.js" in html and 'data-currency="USD"' not in html
    assert client_as(org.boss).get(f"/payments/ageing?on={DAY.isoformat()}").get_data(as_text=True).count(
        'data-customer-id=') == 2
    response = rep.get(f"/payments/ageing.csv?on={DAY.isoformat()}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Customer", "Currency"] and rows[0][2] == "Not yet due"
    assert rows[1] == ["华东客户 East Co", "CNY", "100.00", "450.00", "400.00", "500.00", "600.00", "2050.00"]
    assert rows[-1][0] == "Total" and len(rows) == 3
    receivables = rep.get("/payments/receivables").get_data(as_text=True)
    assert f'data-customer-id="{east.id}"' in receivables and f'data-customer-id="{west.id}"' not in receivables
    assert client_as(org.procurement).get("/payments/ageing").status_code == 403
    # bounded: the same number of statements for 1 or 9 customers
    boss = client_as(org.boss)
    boss.get("/payments/ageing")
    with count_queries() as few:
        boss.get("/payments/ageing")
    for index in range(8):
        customer = make_customer(system_session, org.rep_west, f"More {index}")
        plan_row(system_session, make_contract(system_session, org.rep_west, customer), "10.00", DAY)
    with count_queries() as more:
        boss.get("/payments/ageing")
    assert more.count == few.count


def test_contract_page_queries_do_not_grow_with_plans_and_payments(org, deal, client_as, count_queries,
                                                                   system_session):
    _customer, contract, _order = deal
    first = plan_row(system_session, contract, "1000.00", DAY)
    payment_row(system_session, first, "100.00")
    system_session.commit()
    rep = client_as(org.rep_east)
    rep.get(f"/r/contract/{contract.id}")
    with count_queries() as few:
        assert rep.get(f"/r/contract/{contract.id}").status_code == 200
    for index in range(4):
        plan = plan_row(system_session, contract, "1000.00", DAY, instalment=index + 2)
        payment_row(system_session, plan, "10.00")
        payment_row(system_session, plan, "20.00")
        system_session.commit()
    with count_queries() as more:
        html = rep.get(f"/r/contract/{contract.id}").get_data(as_text=True)
    assert html.count("data-plan-id=") == 5 and html.count("data-payment-id=") >= 9
    assert more.count == few.count


def test_chain_stages_and_the_orders_hook(org, deal, app, client_as, system_session):
    from core.chain import collect
    from core.runtime import db
    customer, contract, order = deal
    contract_plan = plan_row(system_session, contract, "6000.00", DAY)
    order_plan = plan_row(system_session, order, "5000.00", DAY)
    payment_row(system_session, contract_plan, "1500.00")
    payment_row(system_session, order_plan, "700.00")
    system_session.commit()
    gx = app.extensions["guanxi"]
    client = client_as(org.rep_east)
    with app.test_request_context("/"):
        from core.authz import establish_scope
        from core.models import User
        from sqlalchemy import select
        establish_scope(db().execute(select(User).where(User.id == org.rep_east.id)).scalar_one())
        chain = collect("customer", db().get(type(customer), customer.id), org.rep_east)
        keys = [stage.key for stage in chain.stages]
        assert "payment_plans" in keys and "payments" in keys
        assert chain.total("received", "CNY") == Decimal("2200.00")
        on_contract = collect("contract", db().get(type(contract), contract.id), org.rep_east)
        assert on_contract.total("received", "CNY") == Decimal("1500.00")
        paid = gx.hook.orders_paid_amounts(session=db(), order_ids=[order.id])
        assert sum(answer.get(order.id, 0) for answer in paid) == Decimal("700.00")
    page = client.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert 'id="customer-receivables"' in page
    # another salesperson's chain shows nothing of it
    with app.test_request_context("/"):
        from core.authz import establish_scope
        from core.models import User
        from sqlalchemy import select
        establish_scope(db().execute(select(User).where(User.id == org.rep_west.id)).scalar_one())
        paid = gx.hook.orders_paid_amounts(session=db(), order_ids=[order.id])
        assert sum(answer.get(order.id, 0) for answer in paid) == 0


def test_pages_in_chinese(org, deal, client_as, system_session):
    from core.models import User
    from sqlalchemy import select
    _customer, contract, _order = deal
    plan = plan_row(system_session, contract, "1000.00", DAY - dt.timedelta(days=40))
    payment_row(system_session, plan, "300.00")
    system_session.commit()
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    rep = client_as(org.rep_east)
    contract_page = rep.get(f"/r/contract/{contract.id}").get_data(as_text=True)
    assert "回款计划" in contract_page and "部分回款" in contract_page and "添加回款计划" in contract_page
    form = rep.get(f"/r/payment_plan/new?contract_id={contract.id}").get_data(as_text=True)
    assert "期次" in form and "计划回款日期" in form
    ageing = rep.get(f"/payments/ageing?on={DAY.isoformat()}").get_data(as_text=True)
    assert "账龄分析" in ageing and "31–60 天" in ageing and "未到期" in ageing
    pay_form = rep.get(rep.get(f"/payments/plans/{plan.id}/pay").headers["Location"]).get_data(as_text=True)
    assert "超额回款" in pay_form and 'value="700.00"' in pay_form
