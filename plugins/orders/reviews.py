"""Product reviews per order line: rating 1–5, comment, follow-up note and follow-up status.

Reviews are read through their order: on the order page for an order loaded through the scope, and on a
product's page joined to the scoped ``Order`` (so a salesperson sees the reviews of his orders only)."""
from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.scope import current_scope
from plugins.orders.models import Order, OrderLine, Review

PANEL_ROWS = 50


def add_review(session, order: Order, line_id: int, data: dict) -> Review | None:
    """A review of one line of an order the caller may edit (None: no such line on this order)."""
    line = session.execute(select(OrderLine).where(OrderLine.id == line_id, OrderLine.order_id == order.id)
                           ).scalar_one_or_none()
    if line is None:
        return None
    review = Review(order_line_id=line.id, created_by_id=current_scope(session).user_id, **data)
    session.add(review)
    session.flush()
    audit.record(session, "order", order.id, "update", current_scope(session).user_id,
                 {"review": [None, {"line": line.description, "rating": review.rating}]})
    return review


def update_review(session, order: Order, review_id: int, data: dict) -> Review | None:
    review = session.execute(select(Review).join(OrderLine, OrderLine.id == Review.order_line_id)
                             .where(Review.id == review_id, OrderLine.order_id == order.id)).scalar_one_or_none()
    if review is None:
        return None
    changes = {}
    for key, value in data.items():
        if getattr(review, key) != value:
            changes[f"review {review.id}.{key}"] = [getattr(review, key), value]
            setattr(review, key, value)
    if changes:
        audit.record(session, "order", order.id, "update", current_scope(session).user_id, changes)
    session.flush()
    return review


def reviews_of_order(session, order_id) -> list[tuple[Review, OrderLine]]:
    return list(session.execute(
        select(Review, OrderLine).join(OrderLine, OrderLine.id == Review.order_line_id)
        .where(OrderLine.order_id == order_id).order_by(OrderLine.position, Review.id)).all())


def reviews_of_product(session, product_id, limit=PANEL_ROWS) -> list[tuple[Review, Order]]:
    """Reviews of a product on orders the caller can see (the join to the scoped Order filters them)."""
    return list(session.execute(
        select(Review, Order).join(OrderLine, OrderLine.id == Review.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id).order_by(Review.id.desc()).limit(limit)).all())
