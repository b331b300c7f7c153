"""Scope: a salesperson never reads or changes another one's contract or its milestones — by page, form,
milestone id or API: 404 like a missing record, nothing changed. Panels, chain and query counts."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select

from contracts_helpers import create_contract, make_customer, reload
from plugins.contracts.models import Contract, DeliveryPlan


def _contract_with_plan(client, csrf, system_session, customer, title="Plan A", amount="1000.00"):
    contract_id = create_contract(client, csrf, customer, amount=amount)
    token = csrf(client, f"/r/contract/{contract_id}")
    assert client.post(f"/contracts/{contract_id}/plans", data={
        "csrf_token": token, "title": title, "due_on": "2026-03-01", "amount": "100.00"}).status_code == 302
    system_session.rollback()
    plan = system_session.execute(select(DeliveryPlan).where(DeliveryPlan.contract_id == contract_id)).scalar_one()
    return contract_id, plan


def test_another_reps_contract_and_milestones_answer_404(org, client_as, api_as, csrf, system_session):
    east = make_customer(system_session, org.rep_east, "East Co")
    west = make_customer(system_session, org.rep_west, "West Co")
    east_client, west_client = client_as(org.rep_east), client_as(org.rep_west)
    contract_id, plan = _contract_with_plan(east_client, csrf, system_session, east, "Secret milestone")
    own_id, _own_plan = _contract_with_plan(west_client, csrf, system_session, west, "West milestone")
    token = csrf(west_client, "/contracts/expiring")
    before = (reload(system_session, Contract, contract_id).version, reload(system_session, DeliveryPlan, plan.id).version)

    assert west_client.get(f"/r/contract/{contract_id}").status_code == 404
    assert west_client.get(f"/contracts/{contract_id}/plans/{plan.id}").status_code == 404
    # a milestone id under the rep's OWN contract is still not reachable
    assert west_client.get(f"/contracts/{own_id}/plans/{plan.id}").status_code == 404
    for url, data in ((f"/contracts/{contract_id}/plans", {"title": "x", "due_on": "2026-01-01", "items": "x"}),
                      (f"/contracts/{contract_id}/plans/{plan.id}", {"title": "x", "due_on": "2026-01-01",
                                                                     "items": "x"}),
                      (f"/contracts/{own_id}/plans/{plan.id}", {"title": "x", "due_on": "2026-01-01", "items": "x"}),
                      (f"/contracts/{contract_id}/plans/{plan.id}/deliver", {}),
                      (f"/contracts/{own_id}/plans/{plan.id}/deliver", {}),
                      (f"/contracts/{contract_id}/plans/{plan.id}/delete", {}),
                      (f"/contracts/{contract_id}/status", {"status": "active"}),
                      (f"/contracts/{contract_id}/renew", {})):
        assert west_client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    api = api_as(org.rep_west)
    assert api.get(f"/api/v1/contract/{contract_id}").status_code == 404
    assert api.get(f"/api/v1/contract/{contract_id}/delivery-plans").status_code == 404
    assert api.get(f"/api/v1/contract/{contract_id}/delivery-plans/{plan.id}").status_code == 404
    assert api.get(f"/api/v1/contract/{own_id}/delivery-plans/{plan.id}").status_code == 404
    assert api.patch(f"/api/v1/contract/{own_id}/delivery-plans/{plan.id}", json={"title": "x"}).status_code == 404
    assert api.post(f"/api/v1/contract/{contract_id}/delivery-plans",
                    json={"title": "x", "due_on": "2026-01-01", "items": "x"}).status_code == 404
    west_page = west_client.get(f"/r/contract/{own_id}").get_data(as_text=True)
    assert "Secret milestone" not in west_page and "West milestone" in west_page
    # its attachments (core's panel on the contract page) follow the contract's scope
    import io
    upload = east_client.post(f"/attachments/contract/{contract_id}", data={
        "csrf_token": csrf(east_client, f"/r/contract/{contract_id}"),
        "file": (io.BytesIO(b"%PDF-1.4 signed contract"), "合同扫描件.pdf")}, content_type="multipart/form-data")
    assert upload.status_code == 302
    from core.models import Attachment
    system_session.rollback()
    attachment = system_session.execute(select(Attachment).where(Attachment.entity == "contract")).scalar_one()
    assert "合同扫描件.pdf" in east_client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    assert east_client.get(f"/attachments/{attachment.id}").status_code == 200
    assert west_client.get(f"/attachments/{attachment.id}").status_code == 404
    after = (reload(system_session, Contract, contract_id).version, reload(system_session, DeliveryPlan, plan.id).version)
    assert after == before
    assert len(system_session.execute(select(DeliveryPlan.id)).all()) == 2
    # the manager of the East department sees it, the West one does not
    assert client_as(org.manager_east).get(f"/contracts/{contract_id}/plans/{plan.id}").status_code == 200
    assert client_as(org.manager_west).get(f"/r/contract/{contract_id}").status_code == 404


def test_customer_panel_and_chain_stages(app, org, client_as, csrf, system_session):
    from core.scope import build_user_scope
    from plugins.contracts import chain
    customer = make_customer(system_session, org.rep_east, "Chain Co")
    client = client_as(org.rep_east)
    first, _plan = _contract_with_plan(client, csrf, system_session, customer, "Install")
    second = create_contract(client, csrf, customer, amount="50.00", currency="USD")
    cancelled = create_contract(client, csrf, customer, amount="999.00")
    token = csrf(client, f"/r/contract/{cancelled}")
    client.post(f"/contracts/{cancelled}/status", data={"csrf_token": token, "status": "cancelled"})
    boss_customer_contract = create_contract(client_as(org.boss), csrf, customer, amount="7.00",
                                             owner_id=org.boss.id)

    page = client.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert 'id="related-contracts"' in page
    assert f'data-contract-id="{first}"' in page and f'data-contract-id="{boss_customer_contract}"' not in page
    # core's "Quote to cash" panel: both stages, contracted per currency (the cancelled one counts nothing)
    assert 'data-stage="contracts"' in page and 'data-stage="delivery_plans"' in page
    cny = page[page.index('<tr data-currency="CNY">'):]
    assert 'data-kind="contracted">CN¥1,000.00<' in cny[:cny.index("</tr>")]
    boss_page = client_as(org.boss).get(f"/r/customer/{customer.id}").get_data(as_text=True)
    cny = boss_page[boss_page.index('<tr data-currency="CNY">'):]
    assert 'data-kind="contracted">CN¥1,007.00<' in cny[:cny.index("</tr>")]

    gx = app.extensions["guanxi"]
    session = gx.session_factory()
    try:
        with app.test_request_context():
            from core.scope import system_scope
            with system_scope(session, "test: user"):
                from core.models import User
                user = session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
                scope = build_user_scope(session, user, gx.entities, gx.hook)
            session.info["scope"] = scope
            stages = chain.stages("customer", SimpleNamespace(id=customer.id), session)
            assert [s.key for s in stages] == ["contracts", "delivery_plans"]
            contracts, plans = stages
            assert contracts.position == 20 and plans.position == 30 and plans.totals == {}
            # cancelled counts nowhere, the boss's contract is not visible to the rep
            assert contracts.totals == {"contracted": {"CNY": Decimal("1000.00"), "USD": Decimal("50.00")}}
            assert len(contracts.rows) == 3 and [r.label.endswith("Install") for r in plans.rows] == [True]
            # an order's contract: a row, no totals
            order_stages = chain.stages("order", SimpleNamespace(id=1, contract_id=second), session)
            assert order_stages[0].totals == {} and [r.amount for r in order_stages[0].rows] == [Decimal("50.00")]
            assert chain.stages("order", SimpleNamespace(id=1, contract_id=boss_customer_contract), session) == []
            assert chain.stages("order", SimpleNamespace(id=1, contract_id=None), session) == []
    finally:
        session.close()


def test_detail_and_lists_use_a_fixed_number_of_queries(org, client_as, csrf, system_session, count_queries):
    from core.numbering import today
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    few_id = create_contract(client, csrf, customer, amount="1000.00")
    many_id = create_contract(client, csrf, customer, amount="1000.00")
    token = csrf(client, f"/r/contract/{few_id}")
    for contract_id, count in ((few_id, 1), (many_id, 6)):
        for n in range(count):
            client.post(f"/contracts/{contract_id}/plans", data={"csrf_token": token, "title": f"M{n}",
                                                                 "due_on": "2026-01-01", "amount": "10"})
    client.get(f"/r/contract/{few_id}")
    with count_queries() as few:
        client.get(f"/r/contract/{few_id}")
    with count_queries() as many:
        html = client.get(f"/r/contract/{many_id}").get_data(as_text=True)
    assert html.count("data-plan-id=") == 6 and many.count == few.count

    on = today()
    for n in range(4):
        create_contract(client, csrf, customer, title=f"Soon {n}", status="active", signed_on=on.isoformat(),
                        ends_on=(on + dt.timedelta(days=n + (0 if n < 1 else 40))).isoformat())
    client.get("/contracts/expiring")
    with count_queries() as one:
        html_one = client.get("/contracts/expiring?days=30").get_data(as_text=True)
    with count_queries() as four:
        html_four = client.get("/contracts/expiring?days=60").get_data(as_text=True)
    assert html_one.count("<tr data-contract-id") == 1 and html_four.count("<tr data-contract-id") == 4
    assert one.count == four.count
    with count_queries() as customer_page:
        client.get(f"/r/customer/{customer.id}")
    with count_queries() as list_page:
        client.get("/r/contract/")
    assert customer_page.count < 60 and list_page.count < 30
