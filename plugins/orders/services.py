"""Business rules of orders: numbers, lines and stored totals, the status flow, conversion of an accepted
quote, batch actions.

Every function takes the caller's session: the data scope applies to every row it reads, so an order,
customer, contract or quote the caller cannot see is "not found", exactly like a missing one. Functions
flush but never commit (the view commits once: one operation, one transaction), except ``batch``'s caller.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy import inspect as sa_inspect

from core import audit, numbering, services as core_services
from core.i18n import _l
from core.models import Contact, Customer, Product
from core.money import default_currency, line_amounts, quantize, share
from core.scope import current_scope, get_scoped, system_scope
from plugins.orders import statuses
from plugins.orders.models import ZERO, Order, OrderLine, Review, ShipmentLine

NUMBER_KEY, NUMBER_PREFIX, NUMBER_WIDTH = "orders.order", "SO", 6
LOCKED = (statuses.COMPLETED, statuses.CANCELLED)  # their lines no longer change


def _error(field, message):
    return ValidationError({field: [str(message)]})


# ------------------------------------------------------------------ numbers

def number_taken(session, number, exclude_id=None) -> bool:
    """Numbers are unique across the company, also among orders the caller cannot see."""
    stmt = select(Order.id).where(Order.number == number).execution_options(include_deleted=True)
    if exclude_id is not None:
        stmt = stmt.where(Order.id != exclude_id)
    with system_scope(session, "orders: unique number"), session.no_autoflush:
        return session.execute(stmt.limit(1)).first() is not None


def next_number(session, on: dt.date | None = None) -> str:
    return numbering.next_number(session, NUMBER_KEY, NUMBER_PREFIX, width=NUMBER_WIDTH, on=on,
                                 taken=lambda number: number_taken(session, number))


# ------------------------------------------------------------------ lines and totals

def apply_totals(order: Order) -> None:
    """Recompute every line's net/tax/gross in the order's currency and store the order's totals (sums of
    the rounded line values, never re-rounded)."""
    subtotal = tax_total = total = quantize(0, order.currency)
    for line in order.lines:
        amounts = line_amounts(line.quantity, line.unit_price, line.discount_percent, line.tax_rate_percent,
                               order.currency)
        line.net, line.tax, line.gross = amounts
        subtotal, tax_total, total = subtotal + amounts.net, tax_total + amounts.tax, total + amounts.gross
    order.subtotal, order.tax_total, order.total = subtotal, tax_total, total


def shipped_value(order: Order) -> Decimal:
    """Value of what is shipped (and not returned): per line share(gross, shipped, quantity)."""
    return sum((share(line.gross, line.shipped_quantity or ZERO, line.quantity, order.currency)
                for line in order.lines), quantize(0, order.currency))


def _product_names(session, lines_data) -> dict[int, Product]:
    ids = {line["product_id"] for line in lines_data if line.get("product_id")}
    if not ids:
        return {}
    return {p.id: p for p in session.execute(select(Product).where(Product.id.in_(ids))).scalars()}


def _line_summary(line: OrderLine) -> str:
    return f"{line.description} × {line.quantity} @ {line.unit_price}"


def replace_lines(session, order: Order, lines_data: list[dict]) -> list[str]:
    """Make ``order.lines`` what was typed: lines with an ``id`` change in place, new ones are added,
    missing ones removed. A shipped line cannot be removed nor go below its shipped quantity; a reviewed
    line cannot be removed. Errors come keyed ``lines`` → index → field. Returns the audit summary."""
    errors: dict = {}
    if not lines_data:
        raise _error("lines", _l("Add at least one line."))
    products = _product_names(session, lines_data)
    existing = {line.id: line for line in order.lines if line.id is not None}
    kept_ids = set()
    for index, data in enumerate(lines_data):
        line_errors = {}
        product = products.get(data.get("product_id")) if data.get("product_id") else None
        if data.get("product_id") and product is None:
            line_errors["product_id"] = [str(_l("Not found."))]
        if not data.get("description") and product is None:
            line_errors["description"] = [str(_l("Describe the line or choose a product."))]
        line = existing.get(data.get("id")) if data.get("id") else None
        if data.get("id") and line is None:
            line_errors["id"] = [str(_l("This line is not part of the order."))]
        if data.get("unit_price") is None and product is None:
            line_errors["unit_price"] = [str(_l("Enter the unit price or choose a product."))]
        elif data.get("unit_price") is None and product.currency != order.currency:
            line_errors["unit_price"] = [str(_l("The product's price is in %(currency)s: enter the unit price.",
                                                currency=product.currency))]
        if line is not None and data["quantity"] < (line.shipped_quantity or ZERO):
            line_errors["quantity"] = [str(_l("%(shipped)s are already shipped: the quantity cannot be less.",
                                                shipped=_plain_quantity(line.shipped_quantity)))]
        if line_errors:
            errors[index] = line_errors
            continue
        if line is None:
            line = OrderLine()
            order.lines.append(line)
        kept_ids.add(line.id)
        line.position = index + 1
        line.product_id = product.id if product is not None else None
        line.description = data.get("description") or product.name
        line.quantity = data["quantity"]
        line.unit = data.get("unit") or (product.unit if product is not None else None)
        line.unit_price = data["unit_price"] if data.get("unit_price") is not None else product.price
        line.discount_percent = data.get("discount_percent") or ZERO
        line.tax_rate_percent = data.get("tax_rate_percent") or ZERO
    removed = [line for line_id, line in existing.items() if line_id not in kept_ids]
    for line in removed:
        if (line.shipped_quantity or ZERO) > 0 or _has_history(session, line.id):
            errors.setdefault("_schema", []).append(str(_l(
                "Line “%(line)s” has shipments or reviews and cannot be removed.", line=line.description)))
    if errors:
        # per line and field: {"lines": {index: {field: [...]}}}; about the lines as a whole: "_schema"
        messages = {"lines": {key: value for key, value in errors.items() if key != "_schema"}}
        if "_schema" in errors:
            messages["_schema"] = errors["_schema"]
        raise ValidationError(messages)
    for line in removed:
        order.lines.remove(line)
    return [_line_summary(line) for line in order.lines]


def _has_history(session, line_id) -> bool:
    shipped = session.execute(select(ShipmentLine.id).where(ShipmentLine.order_line_id == line_id).limit(1))
    if shipped.first() is not None:
        return True
    return session.execute(select(Review.id).where(Review.order_line_id == line_id).limit(1)).first() is not None


def _plain_quantity(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------ the EntitySpec rules (create / update)

def on_save(session, order: Order, data: dict) -> None:
    """EntitySpec.on_save: number, defaults, links that must agree (contact and contract of the same
    customer, contract currency), the status flow, and the lines with the stored totals."""
    is_new = order.id is None
    with session.no_autoflush:
        if not order.number:
            order.number = next_number(session, order.ordered_on)
        elif number_taken(session, order.number, exclude_id=order.id):
            raise _error("number", _l("This number is already used by another order."))
        order.currency = order.currency or default_currency()
        order.ordered_on = order.ordered_on or numbering.today()
        order.custom = order.custom or {}
        _check_links(session, order)
        _check_status(order, is_new)
        lines = data.get("lines")
        if lines is not None:
            if not is_new and order.status in LOCKED and _status_unchanged(order):
                raise _error("lines", _l("A completed or cancelled order can no longer be changed."))
            old = [_line_summary(line) for line in order.lines] if not is_new else []
            new = replace_lines(session, order, lines)
            if not is_new and old != new:
                audit.record(session, "order", order.id, "update", current_scope(session).user_id,
                             {"lines": [old, new]})
        apply_totals(order)


def _status_unchanged(order) -> bool:
    return not sa_inspect(order).attrs.status.history.has_changes()


def _check_links(session, order: Order) -> None:
    if order.customer_id is None:
        raise _error("customer_id", _l("Choose a customer."))
    if get_scoped(session, Customer, order.customer_id) is None:
        raise _error("customer_id", _l("Not found."))
    if order.contact_id is not None:
        contact = get_scoped(session, Contact, order.contact_id)
        if contact is None:
            raise _error("contact_id", _l("Not found."))
        if contact.customer_id != order.customer_id:
            raise _error("contact_id", _l("This contact belongs to another customer."))
    if order.contract_id is not None:
        from plugins.contracts.models import Contract
        history = sa_inspect(order).attrs.contract_id.history
        if order.id is None or history.has_changes():
            contract = get_scoped(session, Contract, order.contract_id)
            if contract is None:
                raise _error("contract_id", _l("Not found."))
        else:
            with system_scope(session, "orders: the order's own contract"):
                contract = session.execute(select(Contract).where(Contract.id == order.contract_id)).scalar_one()
        if contract.customer_id != order.customer_id:
            raise _error("contract_id", _l("This contract belongs to another customer."))
        if contract.currency != order.currency:
            raise _error("currency", _l("The contract is in %(currency)s: an order of it must be too.",
                                        currency=contract.currency))


def _check_status(order: Order, is_new: bool) -> None:
    history = sa_inspect(order).attrs.status.history
    if is_new:
        order.status = order.status or statuses.PENDING_PAYMENT
        if order.status not in (statuses.PENDING_PAYMENT, statuses.CONFIRMED):
            raise _error("status", _l("A new order is pending payment or confirmed."))
        return
    if not history.has_changes():
        return
    old = history.deleted[0] if history.deleted else None
    reason = statuses.refusal(old, order.status)
    if reason is not None:
        raise _error("status", reason)


# ------------------------------------------------------------------ create / edit with lines

def create_order(session, registry, data: dict) -> Order:
    """Create an order (header and ``data["lines"]``) the caller may create; flush only."""
    return core_services.create(session, registry["order"], data, registry, commit=False)


def change_status(session, registry, order_id: int, status: str, version=None) -> Order:
    """Move an order the caller may edit to ``status`` by hand (guarded by ``statuses.refusal``); commits
    (through ``core.services.update``: audited, stale versions refused)."""
    data = {"status": status}
    if version is not None:
        data["version"] = version
    return core_services.update(session, registry["order"], order_id, data, registry)


def orders_of(session, *, customer_id=None, contract_id=None, limit=None) -> list[Order]:
    """Visible orders, newest first."""
    stmt = select(Order).order_by(Order.id.desc())
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if contract_id is not None:
        stmt = stmt.where(Order.contract_id == contract_id)
    if limit:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())


# ------------------------------------------------------------------ conversion of a quote

def order_of_quote(session, quote_id) -> Order | None:
    """The order made from this quote, visible or not (a quote converts once)."""
    with system_scope(session, "orders: was the quote converted"), session.no_autoflush:
        return session.execute(select(Order).where(Order.quote_id == quote_id)
                               .execution_options(include_deleted=True)).scalar_one_or_none()


def create_from_quote(session, registry, quote_id: int) -> Order:
    """An order from an accepted quote the caller can see: customer, contact, currency and lines copied
    (and the contract made from the same quote, if there is one). A second conversion is refused at
    ``quote_id``. Flush only; raises ``core.services.NotFound`` when the quote is out of scope."""
    from plugins.quotes import services as quote_services
    quote = quote_services.accepted_quote_for_conversion(session, quote_id)
    existing = order_of_quote(session, quote.id)
    if existing is not None:
        raise _error("quote_id", _l("This quote was already converted into order %(number)s.",
                                    number=existing.number))
    data = {"customer_id": quote.customer_id, "contact_id": quote.contact_id, "currency": quote.currency,
            "quote_id": quote.id, "contract_id": _contract_of_quote(session, quote.id),
            "status": statuses.PENDING_PAYMENT, "ordered_on": numbering.today(),
            "remark": quote.title,
            "lines": [{"product_id": line.product_id, "description": line.description, "quantity": line.quantity,
                       "unit": line.unit, "unit_price": line.unit_price,
                       "discount_percent": line.discount_percent, "tax_rate_percent": line.tax_rate_percent}
                      for line in quote.lines]}
    order = create_order(session, registry, data)
    quote_services.mark_converted(session, quote, "order", order.id)
    return order


def _contract_of_quote(session, quote_id) -> int | None:
    from plugins.contracts.models import Contract
    return session.execute(select(Contract.id).where(Contract.quote_id == quote_id)
                           .order_by(Contract.id).limit(1)).scalar()


def prefill_from_contract(session, contract_id) -> dict:
    """Form values of a new order of a visible contract: its customer, contact, currency and itself."""
    from plugins.contracts.models import Contract
    contract = get_scoped(session, Contract, contract_id)
    if contract is None:
        return {}
    return {"customer_id": contract.customer_id, "contact_id": contract.contact_id,
            "currency": contract.currency, "contract_id": contract.id}


# ------------------------------------------------------------------ batch actions

def editable_orders(session, spec, ids) -> list[Order]:
    """The orders among ``ids`` the caller may edit (one scoped query); the others are simply absent."""
    scope = current_scope(session)
    if not ids or not scope.has(spec.permission("edit")):
        return []
    stmt = select(Order).where(Order.id.in_(list(ids))).order_by(Order.id)
    criteria = scope.criteria(spec, "edit")
    if criteria is not None:
        stmt = stmt.where(criteria)
    return list(session.execute(stmt.execution_options(populate_existing=True)).scalars())


def editable_ids(session, spec, ids) -> set[int]:
    """Which of these orders the caller may edit (to show buttons): one light ``SELECT id``."""
    scope = current_scope(session)
    if not ids or not scope.has(spec.permission("edit")):
        return set()
    stmt = select(Order.id).where(Order.id.in_(list(ids)))
    criteria = scope.criteria(spec, "edit")
    if criteria is not None:
        stmt = stmt.where(criteria)
    return set(session.execute(stmt).scalars())


def batch(session, spec, ids, kind: str, value) -> tuple[list[Order], list[tuple[Order | None, str]]]:
    """Apply one batch action to the orders among ``ids`` that the caller may edit:
    ``remark`` (text, replaces the remark), ``status`` (guarded per order) or ``free_shipping`` (bool).
    Returns ``(changed, skipped)``: skipped pairs give the order (None for ids out of reach, which are
    counted but never named) and the reason. Each change is audited; the caller commits."""
    orders = editable_orders(session, spec, ids)
    user_id = current_scope(session).user_id
    changed, skipped = [], []
    missing = len(set(ids)) - len(orders)
    if missing:
        skipped.extend([(None, str(_l("Not found or not yours to change.")))] * missing)
    for order in orders:
        if kind == "status":
            reason = statuses.refusal(order.status, value)
            if reason is not None:
                skipped.append((order, str(reason)))
                continue
        column = {"remark": "remark", "status": "status", "free_shipping": "free_shipping"}[kind]
        old = getattr(order, column)
        if old == value:
            skipped.append((order, str(_l("Nothing to change."))))
            continue
        setattr(order, column, value)
        audit.record(session, spec.name, order.id, "update", user_id, {column: [old, value], "batch": [None, kind]})
        changed.append(order)
    session.flush()
    return changed, skipped

