"""Demo orders: every status of the flow appears, and the stored quantities and totals agree with the
shipments and lines, as the services would keep them."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from core.money import line_amounts
from plugins.orders.models import Order, OrderLine, Shipment, ShipmentLine


def test_demo_orders_are_consistent(app, gx, monkeypatch):
    from core import demo
    monkeypatch.setattr(demo, "hash_password", lambda password: "not-a-real-hash")  # argon2: speed only
    with app.test_request_context(), gx.system_session("test: demo") as session:
        demo.generate(session, seed=7, customers=40, today=dt.date(2030, 3, 1))
        session.commit()
        orders = session.execute(select(Order)).scalars().all()
        assert {"pending_payment", "confirmed", "partially_shipped", "shipped", "completed", "returned",
                "cancelled"} <= {order.status for order in orders}
        shipped = defaultdict(Decimal)
        for item, status in session.execute(select(ShipmentLine, Shipment.status)
                                            .join(Shipment, Shipment.id == ShipmentLine.shipment_id)).all():
            if status != "returned":
                shipped[item.order_line_id] += item.quantity
        for order in orders:
            assert order.number.startswith("SO-2030-")
            assert order.total == sum(line.gross for line in order.lines)
            for line in order.lines:
                assert (line.net, line.tax, line.gross) == tuple(line_amounts(
                    line.quantity, line.unit_price, line.discount_percent, line.tax_rate_percent, order.currency))
                assert line.shipped_quantity == shipped[line.id]
        assert session.execute(select(OrderLine)).first() is not None
