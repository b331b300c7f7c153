"""Batch actions on the orders list (scoped, guarded, audited), scope 404s on every order page, reviews,
conversion of an accepted quote, orders from a contract."""
from __future__ import annotations

from sqlalchemy import select

from core.models import AuditEntry
from plugins.orders.models import Order, Review
from plugins.quotes.models import QuoteConversion
from tests.plugins.orders.helpers import (
    fresh,
    CABLE, SENSOR, contract, create_order, customer, product, quote, reload,
)


def two_orders_each(org, client_as, csrf, system_session):
    east, west = client_as(org.rep_east), client_as(org.rep_west)
    mine = customer(system_session, org.rep_east)
    theirs = customer(system_session, org.rep_west, "西部客户 West customer")
    return east, [create_order(east, csrf, mine.id, [SENSOR]), create_order(east, csrf, mine.id, [CABLE],
                                                                             status="pending_payment")], \
        [create_order(west, csrf, theirs.id, [SENSOR])]


def test_list_offers_the_batch_actions(org, client_as, csrf, system_session):
    east, mine, _theirs = two_orders_each(org, client_as, csrf, system_session)
    html = east.get("/r/order/").get_data(as_text=True)
    for kind in ("remark", "status", "free_shipping"):
        assert f"/orders/batch/{kind}" in html
    assert html.count('name="ids"') == 2


def test_batch_status_is_guarded_per_order_and_scoped(org, client_as, csrf, system_session):
    east, mine, theirs = two_orders_each(org, client_as, csrf, system_session)
    ids = [str(i) for i in mine + theirs]
    token = csrf(east, "/r/order/")
    form = east.post("/orders/batch/status", data={"csrf_token": token, "ids": ids})
    assert form.status_code == 200 and "1 other selected order is out of your reach" in form.get_data(as_text=True)
    response = east.post("/orders/batch/status", data={"csrf_token": token, "ids": ids, "apply": "1",
                                                       "status": "pending_payment"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    first, second = reload(system_session, mine[0]), reload(system_session, mine[1])
    assert first.status == "pending_payment" and second.status == "pending_payment"
    assert "1 order changed." in html and second.number in html and "The order already has this status." in html
    assert "1 order not found or not yours to change." in html
    other = reload(system_session, theirs[0])
    assert other.status == "confirmed" and other.number not in html  # never named, never changed
    refused = east.post("/orders/batch/status", data={"csrf_token": token, "ids": ids, "apply": "1",
                                                      "status": "shipped"})
    assert "Shipments set this status" in refused.get_data(as_text=True)
    audit = fresh(system_session).execute(select(AuditEntry).where(AuditEntry.entity == "order",
                                                            AuditEntry.record_id == mine[0])).scalars().all()
    assert any(entry.changes.get("status") == ["confirmed", "pending_payment"] for entry in audit)


def test_batch_remark_and_free_shipping(org, client_as, csrf, system_session):
    east, mine, theirs = two_orders_each(org, client_as, csrf, system_session)
    ids = [str(i) for i in mine + theirs]
    token = csrf(east, "/r/order/")
    east.post("/orders/batch/remark", data={"csrf_token": token, "ids": ids, "apply": "1", "remark": "加急 Urgent"})
    east.post("/orders/batch/free_shipping", data={"csrf_token": token, "ids": ids, "apply": "1",
                                                   "free_shipping": "yes"})
    for order_id in mine:
        order = reload(system_session, order_id)
        assert order.remark == "加急 Urgent" and order.free_shipping is True
    other = reload(system_session, theirs[0])
    assert other.remark is None and other.free_shipping is False
    bad = east.post("/orders/batch/free_shipping", data={"csrf_token": token, "ids": ids, "apply": "1"})
    assert bad.status_code == 422 and "Choose yes or no." in bad.get_data(as_text=True)
    # the manager of East changes his team's orders; the salesperson of West cannot touch East's
    manager = client_as(org.manager_east)
    manager.post("/orders/batch/remark", data={"csrf_token": csrf(manager, "/r/order/"), "ids": ids, "apply": "1",
                                               "remark": "checked"})
    assert reload(system_session, mine[0]).remark == "checked" and reload(system_session, theirs[0]).remark is None


def test_out_of_scope_orders_answer_404_everywhere(org, client_as, csrf, system_session):
    east, mine, theirs = two_orders_each(org, client_as, csrf, system_session)
    order = reload(system_session, theirs[0])
    before = (order.version, order.status, order.remark)
    token = csrf(east, "/r/order/")
    line_id = order.lines[0].id
    assert east.get(f"/r/order/{order.id}").status_code == 404
    assert east.get(f"/orders/{order.id}/edit").status_code == 404
    assert east.get(f"/orders/{order.id}/shipments/new").status_code == 404
    for url, data in [(f"/orders/{order.id}/edit", {"customer_id": "1"}),
                      (f"/orders/{order.id}/status", {"status": "cancelled"}),
                      (f"/orders/{order.id}/shipments/new", {"shipped_on": "2026-01-01", f"qty_{line_id}": "1"}),
                      (f"/orders/{order.id}/remind", {}),
                      (f"/orders/{order.id}/reviews", {"line_id": str(line_id), "rating": "5"}),
                      (f"/orders/{order.id}/exception/clear", {})]:
        assert east.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    after = reload(system_session, order.id)
    assert (after.version, after.status, after.remark) == before
    assert fresh(system_session).execute(select(Review)).first() is None
    # the manager of West sees it, the manager of East does not
    assert client_as(org.manager_west).get(f"/r/order/{order.id}").status_code == 200
    assert client_as(org.manager_east).get(f"/r/order/{order.id}").status_code == 404


def test_reviews_per_line_on_the_order_and_the_product_page(org, client_as, csrf, system_session):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    item = product(system_session)
    order_id = create_order(east, csrf, buyer.id, [{"product_id": str(item.id), "quantity": "1"}])
    line_id = reload(system_session, order_id).lines[0].id
    token = csrf(east, f"/r/order/{order_id}")
    bad = east.post(f"/orders/{order_id}/reviews", data={"csrf_token": token, "line_id": str(line_id),
                                                         "rating": "6"})
    assert bad.status_code == 302 and fresh(system_session).execute(select(Review)).first() is None
    east.post(f"/orders/{order_id}/reviews", data={"csrf_token": token, "line_id": str(line_id), "rating": "4",
                                                   "comment": "包装很好 Well packed"})
    review = fresh(system_session).execute(select(Review)).scalar_one()
    assert (review.rating, review.follow_up_status) == (4, "open")
    east.post(f"/orders/{order_id}/reviews/{review.id}", data={
        "csrf_token": token, "rating": "4", "comment": review.comment, "follow_up": "回访完成",
        "follow_up_status": "done"})
    system_session.expire_all()
    review = fresh(system_session).execute(select(Review)).scalar_one()
    assert (review.follow_up, review.follow_up_status) == ("回访完成", "done")
    assert "包装很好 Well packed" in east.get(f"/r/order/{order_id}").get_data(as_text=True)
    product_page = east.get(f"/r/product/{item.id}").get_data(as_text=True)
    assert "包装很好 Well packed" in product_page
    # another salesperson sees the product, not the review of an order he cannot see
    assert "包装很好 Well packed" not in client_as(org.rep_west).get(f"/r/product/{item.id}").get_data(as_text=True)


def test_an_accepted_quote_converts_once_into_an_order(org, client_as, csrf, system_session):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    offer = quote(system_session, buyer, org.rep_east, lines=(("Sensor", "2", "50.00", "10", "13"),
                                                               ("Cable", "3", "1.10", "0", "6")))
    page = east.get(f"/r/quote/{offer.id}").get_data(as_text=True)
    assert f"/orders/from-quote/{offer.id}" in page
    token = csrf(east, f"/r/quote/{offer.id}")
    response = east.post(f"/orders/from-quote/{offer.id}", data={"csrf_token": token})
    assert response.status_code == 302 and "/r/order/" in response.headers["Location"]
    order = fresh(system_session).execute(select(Order).where(Order.quote_id == offer.id)).scalar_one()
    assert [(l.description, l.quantity, l.gross) for l in order.lines] == [
        (l.description, l.quantity, l.gross) for l in offer.lines]
    assert order.total == offer.total and order.customer_id == buyer.id and order.status == "pending_payment"
    assert fresh(system_session).execute(select(QuoteConversion.target_id).where(
        QuoteConversion.quote_id == offer.id, QuoteConversion.target_entity == "order")).scalar_one() == order.id
    again = east.post(f"/orders/from-quote/{offer.id}", data={"csrf_token": token})
    assert again.status_code == 302 and "/r/quote/" in again.headers["Location"]
    assert len(fresh(system_session).execute(select(Order)).scalars().all()) == 1
    assert f"/orders/from-quote/{offer.id}" not in east.get(f"/r/quote/{offer.id}").get_data(as_text=True)
    # a draft quote, and someone else's quote, are refused
    draft = quote(system_session, buyer, org.rep_east, status="draft", lines=(("X", "1", "1.00", "0", "0"),) * 2)
    east.post(f"/orders/from-quote/{draft.id}", data={"csrf_token": token})
    assert fresh(system_session).execute(select(Order).where(Order.quote_id == draft.id)).first() is None
    west_offer = quote(system_session, customer(system_session, org.rep_west, "W"), org.rep_west)
    assert east.post(f"/orders/from-quote/{west_offer.id}", data={"csrf_token": token}).status_code == 404


def test_new_order_from_a_contract_is_prefilled_and_must_match_it(org, client_as, csrf, system_session):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    deal = contract(system_session, buyer, org.rep_east, currency="USD")
    page = east.get(f"/r/contract/{deal.id}").get_data(as_text=True)
    assert f"/orders/new?contract_id={deal.id}" in page
    form = east.get(f"/orders/new?contract_id={deal.id}").get_data(as_text=True)
    assert f'<option value="{deal.id}" selected' in form and '<option value="USD" selected' in form
    wrong = create_order(east, csrf, buyer.id, [SENSOR], expect=422, contract_id=str(deal.id), currency="CNY")
    assert "The contract is in USD" in wrong.get_data(as_text=True)
    order_id = create_order(east, csrf, buyer.id, [SENSOR], contract_id=str(deal.id), currency="USD")
    assert reload(system_session, order_id).contract_id == deal.id
    assert reload(system_session, order_id).number in east.get(f"/r/contract/{deal.id}").get_data(as_text=True)
