"""Shipments (发货明细): several per order, each with a quantity per order line.

A shipment can never take more of a line than is still unshipped (the error is at that line's quantity
field, ``qty_<line id>``). The lines' ``shipped_quantity`` and the order's status change in the same
transaction as the shipment. A returned shipment gives its quantities back to "unshipped" and flags the
order as an exception. The caller has loaded the order through its scope for "edit" and commits."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError
from sqlalchemy import exists, select

from core import audit, numbering
from core.i18n import _l
from core.scope import current_scope
from plugins.orders import statuses
from plugins.orders.models import ZERO, Order, OrderLine, Shipment, ShipmentLine

MAX_QUANTITY = Decimal(10) ** 14


def quantity_field(line_id) -> str:
    return f"qty_{line_id}"


def parse_quantities(order: Order, typed: dict) -> dict[int, Decimal]:
    """``{line_id: quantity}`` from the form's ``qty_<line id>`` values; blank means 0."""
    quantities, errors = {}, {}
    for line in order.lines:
        raw = (typed.get(quantity_field(line.id)) or "").strip()
        if not raw:
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:
            errors[quantity_field(line.id)] = [str(_l("Not a valid number."))]
            continue
        if not value.is_finite() or value < 0 or value > MAX_QUANTITY or value != value.quantize(Decimal("0.001")):
            errors[quantity_field(line.id)] = [str(_l("Enter a quantity of 0 or more, with at most 3 decimals."))]
            continue
        if value:
            quantities[line.id] = value
    if errors:
        raise ValidationError(errors)
    return quantities


def _locked_lines(session, order: Order) -> list[OrderLine]:
    """The order's lines, locked until commit (FOR UPDATE where the database has it) and freshly read, so
    two shipments recorded at the same moment cannot both ship the last units."""
    stmt = (select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position, OrderLine.id)
            .with_for_update().execution_options(populate_existing=True))
    return list(session.execute(stmt).scalars())


def record_shipment(session, order: Order, data: dict, quantities: dict[int, Decimal]) -> Shipment:
    """Record a shipment of ``quantities`` (``{line_id: qty}``) of a visible, editable order."""
    if order.status in statuses.NOT_SHIPPABLE:
        raise ValidationError({"_schema": [str(_l("A %(status)s order takes no shipments.",
                                                  status=statuses.label(order.status).lower()))]})
    lines = {line.id: line for line in _locked_lines(session, order)}
    errors = {}
    for line_id, quantity in quantities.items():
        line = lines.get(line_id)
        if line is None:
            errors[quantity_field(line_id)] = [str(_l("This line is not part of the order."))]
        elif quantity > line.unshipped_quantity:
            errors[quantity_field(line_id)] = [str(_l(
                "Only %(left)s left to ship.", left=_plain(line.unshipped_quantity)))]
    if errors:
        raise ValidationError(errors)
    if not quantities:
        raise ValidationError({"_schema": [str(_l("Enter the quantity shipped of at least one line."))]})
    shipment = Shipment(order_id=order.id, shipped_on=data["shipped_on"], carrier=data.get("carrier"),
                        tracking_number=data.get("tracking_number"), note=data.get("note"), status="shipped",
                        created_by_id=current_scope(session).user_id)
    for line_id, quantity in quantities.items():
        shipment.lines.append(ShipmentLine(order_line_id=line_id, quantity=quantity))
        lines[line_id].shipped_quantity = (lines[line_id].shipped_quantity or ZERO) + quantity
    session.add(shipment)
    session.flush()
    _recompute(session, order, list(lines.values()))
    audit.record(session, "order", order.id, "update", current_scope(session).user_id, {
        "shipment": [None, {"id": shipment.id, "carrier": shipment.carrier,
                            "tracking_number": shipment.tracking_number,
                            "quantities": {str(k): str(v) for k, v in quantities.items()}}]})
    return shipment


def set_shipment_status(session, order: Order, shipment_id: int, status: str, on: dt.date | None = None):
    """Mark a shipment of the order delivered, or returned (its quantities go back to unshipped and the
    order is flagged as an exception). A returned shipment is final."""
    shipment = session.execute(select(Shipment).where(Shipment.id == shipment_id, Shipment.order_id == order.id)
                               .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    if shipment is None:
        return None
    on = on or numbering.today()
    if shipment.status == "returned" or shipment.status == status:
        raise ValidationError({"status": [str(_l("This shipment is already %(status)s.",
                                                 status=statuses.SHIPMENT_LABELS[shipment.status]))]})
    old = shipment.status
    if status == "delivered":
        shipment.status, shipment.delivered_on = "delivered", on
    else:
        lines = {line.id: line for line in _locked_lines(session, order)}
        for item in shipment.lines:
            line = lines[item.order_line_id]
            line.shipped_quantity = (line.shipped_quantity or ZERO) - item.quantity
            line.returned_quantity = (line.returned_quantity or ZERO) + item.quantity
        shipment.status, shipment.returned_on = "returned", on
        order.exception_flag = True
        session.flush()
        _recompute(session, order, list(lines.values()))
    audit.record(session, "order", order.id, "update", current_scope(session).user_id,
                 {f"shipment {shipment.id}": [old, shipment.status]})
    session.flush()
    return shipment


def _recompute(session, order: Order, lines) -> None:
    any_returned = session.execute(select(exists().where(Shipment.order_id == order.id,
                                                         Shipment.status == "returned"))).scalar()
    new = statuses.from_shipments(order.status, lines, bool(any_returned))
    if new != order.status:
        audit.record(session, "order", order.id, "update", current_scope(session).user_id,
                     {"status": [order.status, new]})
        order.status = new


def shipments_of(session, order_id) -> list[Shipment]:
    """Shipments of an order (the caller loaded the order through its scope), newest first, lines loaded."""
    from sqlalchemy.orm import selectinload
    return list(session.execute(select(Shipment).options(selectinload(Shipment.lines))
                                .where(Shipment.order_id == order_id)
                                .order_by(Shipment.shipped_on.desc(), Shipment.id.desc())).scalars())


def _plain(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
