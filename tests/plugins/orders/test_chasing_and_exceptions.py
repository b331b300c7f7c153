"""The unpaid-order chasing list (催付) with its reminder e-mail through the real job queue, the
``orders_paid_amounts`` hook, and the exceptions page (overdue, partial, returned)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core.models import AuditEntry
from hooks import hookimpl
from plugins.orders.models import Order, Shipment
from tests.plugins.orders.helpers import CABLE, SENSOR, fresh, contact, create_order, customer, reload
from tests.plugins.orders.test_shipments import ship


def table(html, start="unpaid-table"):
    """The page without its flash messages (which name the orders just saved)."""
    return html[html.index(f'id="{start}"'):]


class PaidHalf:
    """A stand-in for the payments module: order ``paid_id`` is fully paid, every other one half paid."""

    def __init__(self):
        self.paid_id = None
        self.calls = []

    @hookimpl
    def orders_paid_amounts(self, session, order_ids):
        self.calls.append(list(order_ids))
        orders = session.execute(select(Order).where(Order.id.in_(order_ids))).scalars()
        return {o.id: o.total if o.id == self.paid_id else (o.total / 2).quantize(Decimal("0.01")) for o in orders}


def test_without_payments_every_open_order_is_unpaid(org, client_as, csrf, system_session):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    open_id = create_order(east, csrf, buyer.id, [SENSOR])
    cancelled_id = create_order(east, csrf, buyer.id, [CABLE])
    order = reload(system_session, cancelled_id)
    order.status = "cancelled"
    system_session.commit()
    html = table(east.get("/orders/unpaid").get_data(as_text=True))
    assert reload(system_session, open_id).number in html and order.number not in html
    assert "214.60" in html  # outstanding = the whole total
    west_html = client_as(org.rep_west).get("/orders/unpaid").get_data(as_text=True)
    assert reload(system_session, open_id).number not in west_html


def test_the_paid_amounts_hook_defines_unpaid(org, register_plugin, client_as, csrf, system_session):
    plugin = PaidHalf()
    app = register_plugin(plugin, name="fakepayments")
    east = client_as(org.rep_east, app)
    buyer = customer(system_session, org.rep_east)
    paid_id = create_order(east, csrf, buyer.id, [SENSOR])
    half_id = create_order(east, csrf, buyer.id, [CABLE])
    plugin.paid_id = paid_id
    html = table(east.get("/orders/unpaid").get_data(as_text=True))
    assert reload(system_session, paid_id).number not in html
    assert reload(system_session, half_id).number in html and "4.64" in html  # 9.28 total, 4.64 received
    assert sorted(plugin.calls[-1]) == sorted([paid_id, half_id])  # one call for the page, not one per order


def test_one_click_reminder_goes_out_through_the_queue_once_a_day(
        org, app_with, consumer_for, smtp_server, client_as, csrf, system_session, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    smtp_server.configure(app)
    east = client_as(org.rep_east, app)
    buyer = customer(system_session, org.rep_east)
    person = contact(system_session, buyer, org.rep_east, email="buyer@example.com")
    order_id = create_order(east, csrf, buyer.id, [SENSOR], contact_id=str(person.id))
    no_mail_id = create_order(east, csrf, buyer.id, [CABLE])
    token = csrf(east, "/orders/unpaid")
    response = east.post(f"/orders/{order_id}/remind", data={"csrf_token": token})
    assert response.status_code == 302
    order = reload(system_session, order_id)
    assert order.reminded_at is not None
    consumer_for(app)
    assert smtp_server.wait_for(1, timeout=20)
    message = smtp_server.messages[0]
    assert message["To"] == "buyer@example.com" and order.number in message["Subject"]
    assert "214.60" in message.get_content()
    # a second click within 24 hours is refused, and nothing more is sent
    east.post(f"/orders/{order_id}/remind", data={"csrf_token": token})
    assert reload(system_session, order_id).reminded_at == order.reminded_at
    html = east.get("/orders/unpaid").get_data(as_text=True)
    assert "Again after" in html
    # 25 hours later it may go again
    order.reminded_at = order.reminded_at - dt.timedelta(hours=25)
    system_session.commit()
    east.post(f"/orders/{order_id}/remind", data={"csrf_token": token})
    assert smtp_server.wait_for(2, timeout=20)
    # an order without a contact e-mail: refused with a message, nothing queued
    east.post(f"/orders/{no_mail_id}/remind", data={"csrf_token": token})
    assert reload(system_session, no_mail_id).reminded_at is None
    audit = fresh(system_session).execute(select(AuditEntry).where(AuditEntry.record_id == order_id,
                                                            AuditEntry.entity == "order")).scalars().all()
    assert sum(1 for entry in audit if "reminder_to" in entry.changes) == 2


def test_exceptions_overdue_partial_and_returned(org, client_as, csrf, system_session):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    old = dt.date.today() - dt.timedelta(days=30)
    overdue_id = create_order(east, csrf, buyer.id, [SENSOR], ordered_on=old.isoformat())
    waiting_id = create_order(east, csrf, buyer.id, [SENSOR], ordered_on=old.isoformat(), status="pending_payment")
    fresh_id = create_order(east, csrf, buyer.id, [SENSOR])
    partial_id = create_order(east, csrf, buyer.id, [SENSOR, CABLE])
    ship(east, csrf, reload(system_session, partial_id), ["1", ""])
    returned_id = create_order(east, csrf, buyer.id, [CABLE])
    ship(east, csrf, reload(system_session, returned_id), ["3.5"])
    shipment_id = fresh(system_session).execute(select(Shipment.id).where(Shipment.order_id == returned_id)
                                                ).scalar_one()
    east.post(f"/orders/{returned_id}/shipments/{shipment_id}/status",
              data={"csrf_token": csrf(east, "/orders/exceptions"), "status": "returned"})
    numbers = {key: reload(system_session, value).number for key, value in {
        "overdue": overdue_id, "waiting": waiting_id, "fresh": fresh_id, "partial": partial_id,
        "returned": returned_id}.items()}

    def page(kind):
        return table(east.get(f"/orders/exceptions?kind={kind}").get_data(as_text=True), "exception-kinds")

    overdue = page("overdue")
    assert numbers["overdue"] in overdue and numbers["waiting"] not in overdue and numbers["fresh"] not in overdue
    assert 'data-count="overdue">1<' in overdue and 'data-count="partial">1<' in overdue
    assert 'data-count="returned">1<' in overdue
    assert numbers["partial"] in page("partial") and numbers["returned"] in page("returned")
    assert numbers["returned"] not in east.get(f"/orders/exceptions?kind=returned&owner_id={org.rep_west.id}")\
        .get_data(as_text=True)
    # handled: the returned order leaves the list
    east.post(f"/orders/{returned_id}/exception/clear", data={"csrf_token": csrf(east, "/orders/exceptions")})
    assert numbers["returned"] not in page("returned")
    # other people's exceptions stay theirs
    assert numbers["overdue"] not in client_as(org.rep_west).get("/orders/exceptions").get_data(as_text=True)
