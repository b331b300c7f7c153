"""Demo orders (``demo_data`` hook): a few orders per salesperson's customers over the status flow, with
lines from the demo products, shipments (some partial, one returned) and a few reviews."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from core import demo as core_demo
from core.models import Product
from core.numbering import reserve_numbers
from plugins.orders import statuses
from plugins.orders.models import Order, OrderLine, Review, Shipment, ShipmentLine
from plugins.orders.services import NUMBER_KEY, NUMBER_PREFIX, NUMBER_WIDTH, apply_totals

COUNT = 16
CARRIERS = ["顺丰速运 SF Express", "中通快递 ZTO", "京东物流 JD Logistics", "德邦物流 Deppon"]
COMMENTS = ["质量很好，交货及时", "包装有破损，已跟进", "Works as described", "安装服务满意"]


def generate(session, users, customers, seed, today):
    rng = random.Random(f"orders-{seed}")
    staff = {user.id: user for user in core_demo.sales_staff(users)}
    owned = [(customer, contacts) for customer, contacts in customers if customer.owner_id in staff and contacts]
    products = list(session.execute(select(Product).where(Product.active.is_(True)).order_by(Product.id)
                                    .limit(30)).scalars())
    if not owned or not products:
        return
    numbers = reserve_numbers(session, NUMBER_KEY, NUMBER_PREFIX, COUNT, width=NUMBER_WIDTH, on=today)
    plans = [statuses.PENDING_PAYMENT, statuses.CONFIRMED, "partial", "shipped", statuses.COMPLETED, "returned",
             statuses.CANCELLED, statuses.CONFIRMED]
    orders = []
    for index, number in enumerate(numbers):
        customer, contacts = rng.choice(owned)
        owner = staff[customer.owner_id]
        ordered_on = today - dt.timedelta(days=rng.randint(1, 60))
        order = Order(number=number, customer_id=customer.id, contact_id=contacts[0].id, currency="CNY",
                      status=statuses.PENDING_PAYMENT, ordered_on=ordered_on, free_shipping=rng.random() < 0.3,
                      remark="示例订单 Demo order", owner_id=owner.id, department_id=owner.department_id, custom={})
        for position, product in enumerate(rng.sample(products, min(len(products), rng.randint(1, 3))), start=1):
            order.lines.append(OrderLine(position=position, product_id=product.id, description=product.name,
                                         quantity=Decimal(rng.randint(1, 20)), unit=product.unit,
                                         unit_price=product.price if product.currency == "CNY" else Decimal("100"),
                                         discount_percent=Decimal(rng.choice([0, 0, 5, 10])),
                                         tax_rate_percent=Decimal("13"), shipped_quantity=Decimal(0),
                                         returned_quantity=Decimal(0)))
        apply_totals(order)
        orders.append((order, plans[index % len(plans)]))
    session.add_all([order for order, _plan in orders])
    session.flush()
    for order, plan in orders:
        _play(rng, session, order, plan, today)
    session.flush()


def _play(rng, session, order, plan, today):
    """Ship, return and review as ``plan`` says, keeping quantities and status as the services would."""
    if plan in (statuses.PENDING_PAYMENT, statuses.CONFIRMED, statuses.CANCELLED):
        order.status = plan
        return
    shipped_on = min(today, order.ordered_on + dt.timedelta(days=rng.randint(1, 5)))
    shipment = Shipment(order_id=order.id, shipped_on=shipped_on, carrier=rng.choice(CARRIERS),
                        tracking_number=f"SF{rng.randint(10**11, 10**12 - 1)}", status="delivered",
                        delivered_on=min(today, shipped_on + dt.timedelta(days=2)))
    for line in order.lines:
        quantity = line.quantity if plan != "partial" else max(Decimal(1), (line.quantity / 2).to_integral_value())
        shipment.lines.append(ShipmentLine(order_line_id=line.id, quantity=quantity))
        line.shipped_quantity = quantity
    session.add(shipment)
    order.status = statuses.from_shipments(statuses.CONFIRMED, order.lines, False)
    if plan == statuses.COMPLETED:
        order.status = statuses.COMPLETED
        line = order.lines[0]
        session.add(Review(order_line_id=line.id, rating=rng.randint(3, 5), comment=rng.choice(COMMENTS),
                           follow_up_status="done"))
    elif plan == "returned":
        shipment.status, shipment.returned_on = "returned", min(today, shipped_on + dt.timedelta(days=4))
        for line in order.lines:
            line.returned_quantity, line.shipped_quantity = line.shipped_quantity, Decimal(0)
        order.status, order.exception_flag = statuses.RETURNED, True
        session.add(Review(order_line_id=order.lines[0].id, rating=2, comment=COMMENTS[1],
                           follow_up="安排补发 Replacement arranged", follow_up_status="open"))
