"""The orders' part of the deal chain (contracted only for orders without a contract, or the order itself
on an order anchor; shipped per line share), and the query counts of the list and detail pages."""
from __future__ import annotations

import contextlib
from decimal import Decimal

from flask import g
from sqlalchemy import select

from core.authz import establish_scope
from core.chain import collect
from core.models import User
from core.runtime import db
from plugins.contracts.models import Contract
from plugins.orders.models import Order
from tests.plugins.orders.helpers import CABLE, SENSOR, contract, create_order, customer, reload
from tests.plugins.orders.test_shipments import ship


@contextlib.contextmanager
def as_user(app, user):
    with app.test_request_context("/"):
        establish_scope(db().execute(select(User).where(User.id == user.id)).scalar_one())
        yield g.user


def stage(chain, key):
    return next((s for s in chain.stages if s.key == key), None)


def test_chain_totals_of_orders_and_shipments(app, org, client_as, csrf, system_session):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    deal = contract(system_session, buyer, org.rep_east, amount="500.00")
    loose_id = create_order(east, csrf, buyer.id, [SENSOR, CABLE])  # 214.60 + 9.28 = 223.88, no contract
    bound_id = create_order(east, csrf, buyer.id, [CABLE], contract_id=str(deal.id))  # 9.28, of the contract
    cancelled_id = create_order(east, csrf, buyer.id, [CABLE])
    reload(system_session, cancelled_id).status = "cancelled"
    system_session.commit()
    ship(east, csrf, reload(system_session, loose_id), ["3", "3.5"])  # share(214.60, 3, 10) = 64.38; 9.28
    ship(east, csrf, reload(system_session, bound_id), ["1"])  # share(9.28, 1, 3.5) = 2.651... → 2.65
    with as_user(app, org.rep_east) as user:
        by_customer = collect("customer", db().get(type(buyer), buyer.id), user)
        orders, shipments = stage(by_customer, "orders"), stage(by_customer, "shipments")
        assert orders.position == 40 and shipments.position == 50
        assert orders.totals == {"contracted": {"CNY": Decimal("223.88")}}
        assert shipments.totals == {"shipped": {"CNY": Decimal("64.38") + Decimal("9.28") + Decimal("2.65")}}
        assert len(orders.rows) == 3 and len(shipments.rows) == 2
        on_contract = collect("contract", db().execute(select(Contract).where(Contract.id == deal.id)).scalar_one(),
                              user)
        assert stage(on_contract, "orders").totals == {}  # counted in the contract's amount
        assert stage(on_contract, "shipments").totals == {"shipped": {"CNY": Decimal("2.65")}}
        bound = db().execute(select(Order).where(Order.id == bound_id)).scalar_one()
        on_order = collect("order", bound, user)
        assert stage(on_order, "orders").totals == {"contracted": {"CNY": Decimal("9.28")}}
    with as_user(app, org.rep_west) as user:  # another salesperson's chain of the customer: nothing of ours
        assert stage(collect("customer", buyer, user), "orders") is None
    html = east.get(f"/r/order/{loose_id}").get_data(as_text=True)
    assert "Quote to cash" in html


def test_query_counts_of_list_and_detail_pages_do_not_grow_with_rows(org, client_as, csrf, system_session,
                                                                       count_queries):
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)

    def measure(url):
        east.get(url)  # warm caches (stages, settings)
        with count_queries() as counter:
            assert east.get(url).status_code == 200
        return counter.count

    first = create_order(east, csrf, buyer.id, [SENSOR, CABLE])
    ship(east, csrf, reload(system_session, first), ["1", "1"])
    pages = ["/r/order/", f"/r/order/{first}", "/orders/unpaid", "/orders/exceptions?kind=partial"]
    few = {url: measure(url) for url in pages}
    for index in range(6):
        other = customer(system_session, org.rep_east, f"客户 {index}")
        order_id = create_order(east, csrf, other.id, [SENSOR, CABLE, SENSOR])
        ship(east, csrf, reload(system_session, order_id), ["1", "1", ""])
    many = {url: measure(url) for url in pages}
    assert many == few, (few, many)
    print("query counts", few)
    detail = f"/r/order/{first}"
    assert few[detail] <= 45, few


def test_chain_of_a_project_reaches_orders_through_their_quote_or_contract(app, org, client_as, csrf,
                                                                            system_session):
    from plugins.projects.models import Project
    from tests.plugins.orders.helpers import quote
    east = client_as(org.rep_east)
    buyer = customer(system_session, org.rep_east)
    project = Project(number="PRJ-T-1", name="智慧工厂", owner_id=org.rep_east.id,
                      department_id=org.rep_east.department_id, custom={})
    system_session.add(project)
    system_session.commit()
    offer = quote(system_session, buyer, org.rep_east, project_id=project.id)
    east.post(f"/orders/from-quote/{offer.id}", data={"csrf_token": csrf(east, f"/r/quote/{offer.id}")})
    deal = contract(system_session, buyer, org.rep_east, project_id=project.id)
    bound_id = create_order(east, csrf, buyer.id, [CABLE], contract_id=str(deal.id))
    create_order(east, csrf, buyer.id, [SENSOR])  # neither: not part of the project
    with as_user(app, org.rep_east) as user:
        chain = collect("project", db().execute(select(Project).where(Project.id == project.id)).scalar_one(), user)
        rows = stage(chain, "orders").rows
        converted = db().execute(select(Order).where(Order.quote_id == offer.id)).scalar_one()
        assert sorted(row.label for row in rows) == sorted([converted.number, reload(db(), bound_id).number])
        assert stage(chain, "orders").totals == {"contracted": {"CNY": converted.total}}
