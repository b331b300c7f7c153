"""Orders with lines: numbers, stored totals via core.money, errors per line and field, editing lines."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select

from core.models import AuditEntry
from plugins.orders.models import Order, OrderLine
from tests.plugins.orders.helpers import CABLE, SENSOR, fresh, contact, create_order, customer, product, reload


def test_an_order_is_numbered_and_stores_line_amounts_and_totals(org, client_as, csrf, system_session):
    buyer = customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    first = create_order(client, csrf, buyer.id, [SENSOR, CABLE], ordered_on="2026-03-05")
    order = reload(system_session, first)
    assert re.fullmatch(r"SO-2026-\d{6}", order.number) and order.status == "confirmed"
    # 10 × 19.99 × 95 % = 189.905 → 189.91; tax 13 % = 24.6883 → 24.69
    # 3.5 × 2.50 = 8.75; tax 6 % = 0.525 → 0.53 (half up)
    lines = order.lines
    assert [(l.net, l.tax, l.gross) for l in lines] == [
        (Decimal("189.91"), Decimal("24.69"), Decimal("214.60")), (Decimal("8.75"), Decimal("0.53"), Decimal("9.28"))]
    assert (order.subtotal, order.tax_total, order.total) == (Decimal("198.66"), Decimal("25.22"), Decimal("223.88"))
    assert order.currency == "CNY" and order.owner_id == org.rep_east.id
    second = reload(system_session, create_order(client, csrf, buyer.id, [CABLE], ordered_on="2026-03-06"))
    assert int(second.number[-6:]) == int(order.number[-6:]) + 1
    html = client.get(f"/r/order/{first}").get_data(as_text=True)
    assert order.number in html and "223.88" in html and "工业传感器 Sensor" in html


def test_errors_come_back_per_line_and_field_and_nothing_is_saved(org, client_as, csrf, system_session):
    buyer = customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    bad = dict(CABLE, quantity="-2", discount_percent="120")
    response = create_order(client, csrf, buyer.id, [SENSOR, {"description": "", "quantity": "1"}, bad], expect=422)
    html = response.get_data(as_text=True)
    for field in ("lines-1-description-errors", "lines-1-unit_price-errors", "lines-2-quantity-errors",
                  "lines-2-discount_percent-errors"):
        errors = html[html.index(f'id="{field}"'):]
        assert errors[:errors.index("</div></div>") if "</div></div>" in errors else 200].count("<div>") >= 1, field
    assert 'value="工业传感器 Sensor"' in html  # what was typed is still there
    assert fresh(system_session).execute(select(func.count()).select_from(Order)).scalar_one() == 0
    empty = create_order(client, csrf, buyer.id, [], expect=422)
    assert "Add at least one line." in empty.get_data(as_text=True)


def test_a_product_fills_description_unit_and_price(org, client_as, csrf, system_session):
    buyer = customer(system_session, org.rep_east)
    item = product(system_session, price="88.80")
    order_id = create_order(client_as(org.rep_east), csrf, buyer.id, [{"product_id": str(item.id), "quantity": "2"}])
    line = reload(system_session, order_id).lines[0]
    assert (line.description, line.unit, line.unit_price, line.gross) == (
        "工业传感器 Sensor", "个", Decimal("88.80"), Decimal("177.60"))


def test_contact_must_belong_to_the_customer(org, client_as, csrf, system_session):
    buyer, other = customer(system_session, org.rep_east), customer(system_session, org.rep_east, "Other")
    stranger = contact(system_session, other, org.rep_east)
    response = create_order(client_as(org.rep_east), csrf, buyer.id, [SENSOR], expect=422, contact_id=str(stranger.id))
    assert "This contact belongs to another customer." in response.get_data(as_text=True)


def test_editing_lines_recomputes_totals_and_is_audited(org, client_as, csrf, system_session):
    buyer = customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    order_id = create_order(client, csrf, buyer.id, [SENSOR, CABLE])
    order = reload(system_session, order_id)
    first_id, second_id = [line.id for line in order.lines]
    token = csrf(client, f"/orders/{order_id}/edit")
    response = client.post(f"/orders/{order_id}/edit", data={
        "csrf_token": token, "version": str(order.version), "customer_id": str(buyer.id), "currency": "CNY",
        "lines-0-id": str(first_id), "lines-0-description": "Sensor v2", "lines-0-quantity": "1",
        "lines-0-unit_price": "10", "lines-0-tax_rate_percent": "13"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    order = reload(system_session, order_id)
    assert [(l.id, l.description, l.gross) for l in order.lines] == [(first_id, "Sensor v2", Decimal("11.30"))]
    assert order.total == Decimal("11.30")
    assert fresh(system_session).execute(select(OrderLine).where(OrderLine.id == second_id)).first() is None
    entry = fresh(system_session).execute(select(AuditEntry).where(AuditEntry.entity == "order",
                                                            AuditEntry.record_id == order_id,
                                                            AuditEntry.action == "update")).scalars().all()
    assert any("lines" in e.changes for e in entry)


def test_order_through_the_api(org, api_as, system_session):
    buyer = customer(system_session, org.rep_east)
    api = api_as(org.rep_east)
    response = api.post("/api/v1/order", json={"customer_id": buyer.id, "lines": [
        {"description": "API line", "quantity": "2", "unit_price": "3.333", "tax_rate_percent": "0"}]})
    assert response.status_code in (400, 422) and "lines" in response.get_json()["fields"]
    response = api.post("/api/v1/order", json={"customer_id": buyer.id, "lines": [
        {"description": "API line", "quantity": "2", "unit_price": "3.33", "tax_rate_percent": "0"}]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["total"] == "6.66" and body["number"].startswith("SO-") and body["status"] == "pending_payment"
    assert api_as(org.rep_west).get(f"/api/v1/order/{body['id']}").status_code == 404


def test_pages_in_chinese_and_the_generic_form_leads_to_the_order_form(org, client_as, csrf, system_session):
    from core.models import User
    buyer = customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    order_id = create_order(client, csrf, buyer.id, [SENSOR])
    generic = client.get("/r/order/new?customer_id=5")
    assert generic.status_code == 302 and generic.headers["Location"].endswith("/orders/new?customer_id=5")
    assert client.get(f"/r/order/{order_id}/edit").headers["Location"].endswith(f"/orders/{order_id}/edit")
    user = fresh(system_session).execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    html = client.get(f"/r/order/{order_id}").get_data(as_text=True)
    assert "明细与合计" in html and "已确认" in html and "发货明细" in html and "登记发货" in html
    form = client.get(f"/orders/{order_id}/edit").get_data(as_text=True)
    assert "单价" in form and "添加一行" in form
