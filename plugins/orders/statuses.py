"""The status flow of an order, in one place.

    pending_payment ⇄ confirmed ──(shipments)──> partially_shipped ──> shipped ──> completed
          │               │                           ▲   │               │
          └──> cancelled <┘                           │   └─(returns)─> returned ──> cancelled

* A new order is "pending payment" (待付款), or "confirmed" (已确认) when it may be shipped before payment.
* "partially shipped", "shipped" and "returned" are never chosen by hand: ``from_shipments`` derives them
  from the lines' shipped quantities after every shipment or return (one transaction with the change).
* "completed" is chosen by hand once everything is shipped; "cancelled" only while nothing is shipped.
"""
from __future__ import annotations

from core.i18n import _l

PENDING_PAYMENT, CONFIRMED = "pending_payment", "confirmed"
PARTIALLY_SHIPPED, SHIPPED, COMPLETED = "partially_shipped", "shipped", "completed"
CANCELLED, RETURNED = "cancelled", "returned"

STATUS_CHOICES = [
    (PENDING_PAYMENT, _l("Pending payment")),
    (CONFIRMED, _l("Confirmed")),
    (PARTIALLY_SHIPPED, _l("Partially shipped")),
    (SHIPPED, _l("Shipped")),
    (COMPLETED, _l("Completed")),
    (CANCELLED, _l("Cancelled")),
    (RETURNED, _l("Returned")),
]
STATUSES = [value for value, _label in STATUS_CHOICES]
LABELS = dict(STATUS_CHOICES)

# statuses a user may choose by hand, from each status
MANUAL = {
    PENDING_PAYMENT: (CONFIRMED, CANCELLED),
    CONFIRMED: (PENDING_PAYMENT, CANCELLED),
    PARTIALLY_SHIPPED: (),
    SHIPPED: (COMPLETED,),
    COMPLETED: (),
    CANCELLED: (),
    RETURNED: (CANCELLED,),
}
# statuses set by shipments only
DERIVED = (PARTIALLY_SHIPPED, SHIPPED, RETURNED)
# an order in these statuses takes no new shipment
NOT_SHIPPABLE = (CANCELLED, COMPLETED)
OPEN = (PENDING_PAYMENT, CONFIRMED, PARTIALLY_SHIPPED, SHIPPED, RETURNED)  # not completed, not cancelled

SHIPMENT_STATUS_CHOICES = [("shipped", _l("In transit")), ("delivered", _l("Delivered")),
                           ("returned", _l("Returned"))]
SHIPMENT_LABELS = dict(SHIPMENT_STATUS_CHOICES)


def label(status) -> str:
    return str(LABELS.get(status, status or ""))


def refusal(current: str, target: str):
    """Why ``current`` → ``target`` is refused (a lazy message), or None when it is allowed."""
    if target not in LABELS:
        return _l("Unknown status.")
    if target == current:
        return _l("The order already has this status.")
    if target in DERIVED:
        return _l("Shipments set this status: record a shipment or a return instead.")
    if target not in MANUAL.get(current, ()):
        return _l("An order cannot go from “%(current)s” to “%(target)s”.", current=LABELS.get(current, current),
                  target=LABELS[target])
    return None


def from_shipments(current: str, lines, any_returned: bool) -> str:
    """The status after shipped quantities changed: shipped when every line is fully shipped, partially
    shipped when something is, returned when shipments came back and nothing remains shipped; otherwise
    the order keeps its status (and an order that was shipped before goes back to confirmed)."""
    quantities = [(line.quantity or 0, line.shipped_quantity or 0) for line in lines]
    shipped_any = any(shipped > 0 for _qty, shipped in quantities)
    if quantities and shipped_any and all(shipped >= qty for qty, shipped in quantities):
        return SHIPPED
    if shipped_any:
        return PARTIALLY_SHIPPED
    if any_returned:
        return RETURNED
    if current in DERIVED or current == COMPLETED:
        return CONFIRMED
    return current
