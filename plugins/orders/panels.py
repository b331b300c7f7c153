"""Cards and buttons the module adds to detail pages: lines, shipments and reviews on an order; orders
on a customer or a contract; reviews on a product. Every row comes through the request's scoped
session: a panel never shows what the user may not see."""
from __future__ import annotations

from flask import url_for

from core.authz import has
from core.i18n import _l
from core.money import currency_choices
from core.runtime import current
from core.ui import Action, Panel
from core.web.common import may
from plugins.orders import reviews, services, shipments, statuses
from plugins.orders.schemas import FOLLOW_UP_STATUS_CHOICES

PANEL_ROWS = 50


class CurrencyChoices:
    """The currency select's choices, labelled in the request's language when iterated."""

    def __iter__(self):
        return iter(currency_choices())

    def __getitem__(self, index):
        return currency_choices()[index]

    def __len__(self):
        return len(currency_choices())

    def __bool__(self):
        return True


def _spec():
    return current().entities["order"]


def order_panels(session, order) -> list[Panel]:
    can_edit = may(_spec(), order.id, "edit")
    lines = list(order.lines)
    shipment_rows = shipments.shipments_of(session, order.id)
    line_by_id = {line.id: line for line in lines}
    review_rows = reviews.reviews_of_order(session, order.id)
    return [
        Panel("lines", _l("Lines and totals"), "orders/lines_panel.html", order=1, context={
            "order": order, "lines": lines, "can_edit": can_edit,
            "status_label": statuses.label(order.status),
            "choices": [(value, statuses.label(value)) for value in statuses.MANUAL.get(order.status, ())],
            "shipped_value": services.shipped_value(order),
            "edit_url": url_for("orders.edit", record_id=order.id),
            "status_url": url_for("orders.change_status", record_id=order.id),
        }),
        Panel("shipments", _l("Shipments"), "orders/shipments_panel.html", order=2, context={
            "order": order, "shipments": shipment_rows, "line_by_id": line_by_id, "can_edit": can_edit,
            "labels": statuses.SHIPMENT_LABELS,
            "can_ship": can_edit and order.status not in statuses.NOT_SHIPPABLE
            and any(line.unshipped_quantity > 0 for line in lines),
            "ship_url": url_for("orders.ship", record_id=order.id),
        }),
        Panel("reviews", _l("Product reviews"), "orders/reviews_panel.html", order=3, context={
            "order": order, "lines": lines, "reviews": review_rows, "can_edit": can_edit,
            "follow_up_labels": dict(FOLLOW_UP_STATUS_CHOICES),
        }),
    ]


def order_actions(session, order) -> list[Action]:
    actions = []
    if has("orders.order.edit"):
        actions.append(Action(key="orders.edit", label=_l("Edit order and lines"), permission="orders.order.edit",
                              url=url_for("orders.edit", record_id=order.id)))
        if order.status not in statuses.NOT_SHIPPABLE:
            actions.append(Action(key="orders.ship", label=_l("Record a shipment"), permission="orders.order.edit",
                                  url=url_for("orders.ship", record_id=order.id)))
        if order.exception_flag:
            actions.append(Action(key="orders.clear_exception", label=_l("Mark the return as handled"),
                                  method="POST", permission="orders.order.edit",
                                  url=url_for("orders.clear_exception", record_id=order.id)))
    return actions


def related_orders(session, entity, record) -> Panel:
    filters = {"customer_id": record.id} if entity == "customer" else {"contract_id": record.id}
    rows = services.orders_of(session, limit=PANEL_ROWS, **filters)
    new_args = {"customer_id": record.id} if entity == "customer" else {"contract_id": record.id}
    return Panel("orders", _l("Orders"), "orders/related_panel.html", order=45, context={
        "orders": rows, "label": statuses.label,
        "new_url": url_for("orders.new", **new_args) if has("orders.order.create") else None,
        "all_url": url_for("web.record_list", entity="order", **{f"f_{k}": v for k, v in filters.items()}),
    })


def product_reviews(session, product) -> Panel:
    return Panel("order_reviews", _l("Reviews from orders"), "orders/product_reviews_panel.html", order=60,
                 context={"rows": reviews.reviews_of_product(session, product.id),
                          "follow_up_labels": dict(FOLLOW_UP_STATUS_CHOICES)})
