"""The orders' part of the deal chain (hook ``deal_chain``): stage "orders" (40) and stage "shipments" (50).

Which orders an anchor reaches (through the scoped session only): a customer's orders; a project's or an
opportunity's: orders of its contracts and orders whose quote has it; a contract's orders; an order: itself.
Totals (kind → currency → amount):
* "contracted": orders WITHOUT a contract that are not cancelled (an order of a contract is already counted
  in its contract's amount); on an ORDER anchor, the order itself (the contract stage then gives no totals).
* "shipped": per line ``share(gross, shipped quantity − returned, quantity)`` (``shipped_quantity`` is kept
  net of returns), over the orders that are not cancelled.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from core.money import by_currency, share
from plugins.orders import statuses
from plugins.orders.models import Order, Shipment

ORDERS_POSITION, SHIPMENTS_POSITION = 40, 50
ROW_LIMIT = 200


def orders_for(session, entity, record) -> list[Order]:
    stmt = select(Order).options(selectinload(Order.lines)).order_by(Order.ordered_on, Order.id)
    if entity == "order":
        stmt = stmt.where(Order.id == record.id)
    elif entity == "customer":
        stmt = stmt.where(Order.customer_id == record.id)
    elif entity == "contract":
        stmt = stmt.where(Order.contract_id == record.id)
    elif entity in ("project", "opportunity"):
        from plugins.contracts.models import Contract
        from plugins.quotes.models import Quote
        column = f"{entity}_id"
        contracts = select(Contract.id).where(getattr(Contract, column) == record.id)
        quotes = select(Quote.id).where(getattr(Quote, column) == record.id)
        stmt = stmt.where(or_(Order.contract_id.in_(contracts), Order.quote_id.in_(quotes)))
    else:
        return []
    return list(session.execute(stmt.limit(ROW_LIMIT)).scalars())


def shipped_of(order) -> Decimal:
    return sum((share(line.gross, line.shipped_quantity or 0, line.quantity, order.currency)
                for line in order.lines), share(0, 0, 0, order.currency))


def stages(session, entity, record) -> list:
    from flask import url_for

    from core.chain import ChainRow, ChainStage
    from core.i18n import _l
    orders = orders_for(session, entity, record)
    if not orders:
        return []
    counted = [order for order in orders if order.status != statuses.CANCELLED]
    if entity == "order":
        contracted = by_currency((order.total, order.currency) for order in counted)
    else:
        contracted = by_currency((order.total, order.currency) for order in counted if order.contract_id is None)
    order_rows = [ChainRow(label=order.number, url=url_for("web.record_detail", entity="order", record_id=order.id),
                           status_label=statuses.label(order.status), amount=order.total, currency=order.currency)
                  for order in orders]
    result = [ChainStage(position=ORDERS_POSITION, key="orders", label=_l("Orders"), rows=order_rows,
                         totals={"contracted": contracted} if contracted else {})]
    shipments = list(session.execute(
        select(Shipment).options(selectinload(Shipment.lines)).where(Shipment.order_id.in_([o.id for o in orders]))
        .order_by(Shipment.shipped_on, Shipment.id)).scalars())
    shipped = by_currency((shipped_of(order), order.currency) for order in counted)
    if shipments or any(shipped.values()):
        by_id = {order.id: order for order in orders}
        line_of = {line.id: line for order in orders for line in order.lines}
        rows = []
        for shipment in shipments:
            order = by_id[shipment.order_id]
            value = sum((share(line_of[item.order_line_id].gross, item.quantity, line_of[item.order_line_id].quantity,
                               order.currency) for item in shipment.lines), share(0, 0, 0, order.currency))
            label = " · ".join(part for part in (order.number, shipment.shipped_on.isoformat(), shipment.carrier,
                                                 shipment.tracking_number) if part)
            rows.append(ChainRow(label=label, url=url_for("web.record_detail", entity="order",
                                                         record_id=order.id) + "#shipments",
                                 status_label=str(statuses.SHIPMENT_LABELS.get(shipment.status, shipment.status)),
                                 amount=value, currency=order.currency, indent=1))
        result.append(ChainStage(position=SHIPMENTS_POSITION, key="shipments", label=_l("Shipments"), rows=rows,
                                 totals={"shipped": shipped}))
    return result
