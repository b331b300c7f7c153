"""The unpaid-order chasing list (催付) with one-click reminder e-mails, and exception tracking.

"Unpaid" is defined through the hook this module publishes, ``orders_paid_amounts(session, order_ids)``:
the module recording payments answers how much was received per order; with no answer every order
counts as unpaid. An order is chased while it is open (not cancelled), its total is above 0 and the
amount received is below its total.

Exceptions: an order is **overdue** when it was ordered ``ORDERS_SHIP_WITHIN_DAYS`` days ago or more
(setting, default ``SHIP_WITHIN_DAYS`` = 7) and is confirmed or partially shipped — orders still pending
payment wait for the customer, not for the warehouse; **partial** when partially shipped; **returned**
when a shipment came back (``exception_flag``, cleared by hand once handled)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app, has_app_context
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import audit, numbering
from core.db import utcnow
from core.i18n import _l
from core.money import format_money, quantize
from core.scope import current_scope
from plugins.orders import statuses
from plugins.orders.models import Order

SHIP_WITHIN_DAYS = 7
REMIND_AGAIN_AFTER = dt.timedelta(hours=24)
SCAN_BATCH = 200
SCAN_LIMIT = 5000  # orders examined for one page of the chasing list
COUNT_CAP = 1000
CHASED = (statuses.PENDING_PAYMENT, statuses.CONFIRMED, statuses.PARTIALLY_SHIPPED, statuses.SHIPPED,
          statuses.COMPLETED, statuses.RETURNED)
# what the list pages show of each order: one query per relation for the whole page, never one per row
LIST_LOADING = (selectinload(Order.customer), selectinload(Order.contact), selectinload(Order.owner))
EXCEPTION_KINDS = {
    "overdue": _l("Overdue shipment"),
    "partial": _l("Partially shipped"),
    "returned": _l("Returned"),
}


def paid_amounts(session, order_ids) -> dict[int, Decimal]:
    """Received per order over every implementation of ``orders_paid_amounts`` (0 when none answers)."""
    from core.runtime import current
    totals = {order_id: Decimal("0") for order_id in order_ids}
    if not order_ids:
        return totals
    for answer in current().hook.orders_paid_amounts(session=session, order_ids=list(order_ids)):
        for order_id, amount in (answer or {}).items():
            if order_id in totals and amount is not None:
                totals[order_id] += Decimal(amount)
    return totals


def unpaid_page(session, *, after_id=None, limit=50, customer_id=None):
    """One page of unpaid orders, newest first: ``(rows, next_after_id)`` where rows are
    ``(order, paid, outstanding)``. Orders are examined in batches until the page is full."""
    rows, cursor, scanned = [], after_id, 0
    while len(rows) < limit and scanned < SCAN_LIMIT:
        stmt = select(Order).options(*LIST_LOADING).where(Order.status.in_(CHASED), Order.total > 0) \
            .order_by(Order.id.desc())
        if customer_id is not None:
            stmt = stmt.where(Order.customer_id == customer_id)
        if cursor is not None:
            stmt = stmt.where(Order.id < cursor)
        batch = list(session.execute(stmt.limit(SCAN_BATCH)).scalars())
        if not batch:
            return rows, None
        scanned += len(batch)
        paid = paid_amounts(session, [order.id for order in batch])
        for order in batch:
            cursor = order.id
            outstanding = quantize(order.total - paid[order.id], order.currency)
            if outstanding > 0:
                rows.append((order, paid[order.id], outstanding))
                if len(rows) == limit:
                    return rows, order.id
    return rows, cursor if scanned >= SCAN_LIMIT else None


def can_remind_at(order: Order) -> dt.datetime | None:
    """When the next reminder may go out (None: now)."""
    if order.reminded_at is None:
        return None
    again = order.reminded_at + REMIND_AGAIN_AFTER
    return again if again > utcnow() else None


def send_reminder(session, order: Order, *, subject: str, text: str):
    """Queue a payment reminder to the order's contact (delivered after commit by the job queue) and note
    the time; a second reminder within 24 hours is refused. The caller loaded the order for "edit"."""
    from core.mail import queue_mail
    email = order.contact.email if order.contact is not None else None
    if not email:
        raise ValidationError({"contact_id": [str(_l("The order's contact has no e-mail address."))]})
    if can_remind_at(order) is not None:
        raise ValidationError({"_schema": [str(_l("A reminder was sent less than 24 hours ago."))]})
    message = queue_mail(session, to=[email], subject=subject, text=text, related=("order", order.id))
    old = order.reminded_at
    order.reminded_at = utcnow()
    audit.record(session, "order", order.id, "update", current_scope(session).user_id,
                 {"reminded_at": [old, order.reminded_at], "reminder_to": [None, email]})
    session.flush()
    return message


def reminder_text(order: Order, outstanding: Decimal, locale=None) -> tuple[str, str]:
    """Subject and body of a payment reminder (in the current language)."""
    amount = format_money(outstanding, order.currency, locale=locale)
    subject = str(_l("Payment reminder: order %(number)s", number=order.number))
    greeting = order.contact.name if order.contact is not None else ""
    body = str(_l("Dear %(name)s,\n\nour records show that %(amount)s is still open on order %(number)s of "
                  "%(date)s. Please arrange the payment at your earliest convenience; if you have paid "
                  "already, please ignore this message.\n\nThank you.",
                  name=greeting, amount=amount, number=order.number, date=order.ordered_on.isoformat()))
    return subject, body


# ------------------------------------------------------------------ exceptions

def ship_within_days() -> int:
    if has_app_context():
        try:
            return max(0, int(current_app.config.get("ORDERS_SHIP_WITHIN_DAYS", SHIP_WITHIN_DAYS)))
        except (TypeError, ValueError):
            pass
    return SHIP_WITHIN_DAYS


def exception_clause(kind: str, today: dt.date | None = None):
    today = today or numbering.today()
    if kind == "overdue":
        due = today - dt.timedelta(days=ship_within_days())
        return (Order.status.in_((statuses.CONFIRMED, statuses.PARTIALLY_SHIPPED))) & (Order.ordered_on <= due)
    if kind == "partial":
        return Order.status == statuses.PARTIALLY_SHIPPED
    if kind == "returned":
        return Order.exception_flag.is_(True)
    raise KeyError(kind)


def exception_counts(session, today=None) -> dict[str, int]:
    """How many visible orders fall under each kind (each count capped at ``COUNT_CAP``)."""
    counts = {}
    for kind in EXCEPTION_KINDS:
        limited = select(Order.id).where(exception_clause(kind, today)).limit(COUNT_CAP + 1).subquery()
        counts[kind] = session.execute(select(func.count()).select_from(limited)).scalar_one()
    return counts


def exception_page(session, kind: str, *, after_id=None, limit=50, owner_id=None, customer_id=None):
    """Visible orders of one exception kind, newest first, keyset-paged on id: ``(rows, next_after_id)``."""
    stmt = select(Order).options(*LIST_LOADING).where(exception_clause(kind)).order_by(Order.id.desc())
    if owner_id is not None:
        stmt = stmt.where(Order.owner_id == owner_id)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if after_id is not None:
        stmt = stmt.where(Order.id < after_id)
    rows = list(session.execute(stmt.limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def clear_exception(session, order: Order) -> None:
    if order.exception_flag:
        order.exception_flag = False
        audit.record(session, "order", order.id, "update", current_scope(session).user_id,
                     {"exception_flag": [True, False]})
        session.flush()
