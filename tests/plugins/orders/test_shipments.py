"""Shipments: partial quantities per line, never more than unshipped, status derived in the same
transaction, delivered and returned shipments, the manual status flow."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from plugins.orders.models import Order, Shipment
from tests.plugins.orders.helpers import CABLE, SENSOR, fresh, create_order, customer, reload


def ship(client, csrf, order, quantities, expect=302, **fields):
    token = csrf(client, f"/orders/{order.id}/shipments/new")
    data = {"csrf_token": token, "shipped_on": "2026-03-10", "carrier": "顺丰速运", "tracking_number": "SF123",
            **fields}
    for line, quantity in zip(order.lines, quantities):
        data[f"qty_{line.id}"] = quantity
    response = client.post(f"/orders/{order.id}/shipments/new", data=data)
    assert response.status_code == expect, response.get_data(as_text=True)[:3000]
    return response


def post(client, csrf, url, data, order_id):
    token = csrf(client, f"/r/order/{order_id}")
    return client.post(url, data={"csrf_token": token, **data})


def setup_order(org, client_as, csrf, system_session):
    buyer = customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    order_id = create_order(client, csrf, buyer.id, [SENSOR, CABLE])
    return client, reload(system_session, order_id)


def test_partial_then_complete_shipments_keep_quantities_and_status(org, client_as, csrf, system_session):
    client, order = setup_order(org, client_as, csrf, system_session)
    ship(client, csrf, order, ["4", ""])
    order = reload(system_session, order.id)
    assert [l.shipped_quantity for l in order.lines] == [Decimal("4"), Decimal("0")]
    assert order.status == "partially_shipped"
    ship(client, csrf, order, ["6", "3.5"], carrier="中通快递", tracking_number="ZT9")
    order = reload(system_session, order.id)
    assert [l.shipped_quantity for l in order.lines] == [Decimal("10"), Decimal("3.5")]
    assert order.status == "shipped"
    shipments = fresh(system_session).execute(select(Shipment).where(Shipment.order_id == order.id)
                                       .order_by(Shipment.id)).scalars().all()
    assert [(s.carrier, s.tracking_number, sorted(i.quantity for i in s.lines)) for s in shipments] == [
        ("顺丰速运", "SF123", [Decimal("4")]), ("中通快递", "ZT9", [Decimal("3.5"), Decimal("6")])]
    html = client.get(f"/r/order/{order.id}").get_data(as_text=True)
    assert "ZT9" in html and "Shipped" in html


def test_a_shipment_cannot_exceed_what_is_unshipped(org, client_as, csrf, system_session):
    client, order = setup_order(org, client_as, csrf, system_session)
    ship(client, csrf, order, ["8", ""])
    order = reload(system_session, order.id)
    response = ship(client, csrf, order, ["3", "4"], expect=422)
    html = response.get_data(as_text=True)
    first, second = order.lines
    assert "Only 2 left to ship." in html[html.index(f'id="qty_{first.id}-errors"'):][:300]
    assert "Only 3.5 left to ship." in html[html.index(f'id="qty_{second.id}-errors"'):][:300]
    for bad in ("-1", "abc", "1.0001"):
        ship(client, csrf, order, [bad, ""], expect=422)
    ship(client, csrf, order, ["", ""], expect=422)
    order = reload(system_session, order.id)
    assert [l.shipped_quantity for l in order.lines] == [Decimal("8"), Decimal("0")]  # nothing half-saved
    shipments = fresh(system_session).execute(select(Shipment).where(Shipment.order_id == order.id)).scalars()
    assert len(shipments.all()) == 1


def test_a_returned_shipment_gives_quantities_back_and_flags_the_order(org, client_as, csrf, system_session):
    client, order = setup_order(org, client_as, csrf, system_session)
    ship(client, csrf, order, ["10", "3.5"])
    ship_id = fresh(system_session).execute(select(Shipment.id).where(Shipment.order_id == order.id)).scalar_one()
    url = f"/orders/{order.id}/shipments/{ship_id}/status"
    assert post(client, csrf, url, {"status": "delivered"}, order.id).status_code == 302
    assert fresh(system_session).execute(select(Shipment.status).where(Shipment.id == ship_id)).scalar() == "delivered"
    assert post(client, csrf, url, {"status": "returned"}, order.id).status_code == 302
    order = reload(system_session, order.id)
    assert [l.shipped_quantity for l in order.lines] == [Decimal("0"), Decimal("0")]
    assert [l.returned_quantity for l in order.lines] == [Decimal("10"), Decimal("3.5")]
    assert order.status == "returned" and order.exception_flag is True
    # returned is final; shipping again is possible and derives the status again
    post(client, csrf, url, {"status": "delivered"}, order.id)
    assert fresh(system_session).execute(select(Shipment.status).where(Shipment.id == ship_id)).scalar() == "returned"
    ship(client, csrf, order, ["5", ""])
    assert reload(system_session, order.id).status == "partially_shipped"
    # an unknown shipment (or one of another order) is a 404
    assert post(client, csrf, f"/orders/{order.id}/shipments/999999/status", {"status": "returned"},
                order.id).status_code == 404


def test_partial_return_keeps_the_order_partially_shipped(org, client_as, csrf, system_session):
    client, order = setup_order(org, client_as, csrf, system_session)
    ship(client, csrf, order, ["4", ""])
    ship(client, csrf, order, ["6", "3.5"])
    first_id = fresh(system_session).execute(select(Shipment.id).where(Shipment.order_id == order.id)
                                      .order_by(Shipment.id)).scalars().first()
    post(client, csrf, f"/orders/{order.id}/shipments/{first_id}/status", {"status": "returned"}, order.id)
    order = reload(system_session, order.id)
    assert [l.shipped_quantity for l in order.lines] == [Decimal("6"), Decimal("3.5")]
    assert order.status == "partially_shipped" and order.exception_flag


def test_the_status_flow_is_guarded(org, client_as, csrf, system_session):
    client, order = setup_order(org, client_as, csrf, system_session)

    def change(status):
        return post(client, csrf, f"/orders/{order.id}/status", {"status": status}, order.id)

    for refused in ("shipped", "completed", "partially_shipped", "returned", "nonsense"):
        change(refused)
        assert reload(system_session, order.id).status == "confirmed", refused
    change("pending_payment")
    assert reload(system_session, order.id).status == "pending_payment"
    change("confirmed")
    ship(client, csrf, reload(system_session, order.id), ["10", "3.5"])
    change("cancelled")  # shipped goods: no cancellation
    assert reload(system_session, order.id).status == "shipped"
    change("completed")
    done = reload(system_session, order.id)
    assert done.status == "completed"
    ship(client, csrf, done, ["", ""], expect=422)  # a completed order takes no shipments
    response = client.get(f"/r/order/{order.id}")
    assert "Completed" in response.get_data(as_text=True)


def test_cancel_before_shipping(org, client_as, csrf, system_session):
    client, order = setup_order(org, client_as, csrf, system_session)
    post(client, csrf, f"/orders/{order.id}/status", {"status": "cancelled"}, order.id)
    assert reload(system_session, order.id).status == "cancelled"
    assert fresh(system_session).execute(select(Order.status).where(Order.id == order.id)).scalar_one() == "cancelled"
