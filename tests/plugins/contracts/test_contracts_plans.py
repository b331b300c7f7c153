"""Delivery plans (交付计划): milestones on the contract page, their checks at the field, overdue ones
highlighted, the sum of their amounts within the contract amount, and the milestone API."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from contracts_helpers import create_contract, field_error, make_customer, reload
from plugins.contracts.models import Contract, DeliveryPlan


def _plans(session, contract_id):
    session.rollback()
    session.expire_all()
    return session.execute(select(DeliveryPlan).where(DeliveryPlan.contract_id == contract_id)
                           .order_by(DeliveryPlan.position)).scalars().all()


def test_milestones_are_checked_at_the_field_and_fit_the_contract_amount(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    contract_id = create_contract(client, csrf, customer, amount="1000.00")
    token = csrf(client, f"/r/contract/{contract_id}")
    url = f"/contracts/{contract_id}/plans"

    ok = client.post(url, data={"csrf_token": token, "title": "首批设备 First batch", "due_on": "2026-03-01",
                                "amount": "600.00", "items": "2 × 机床"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/r/contract/{contract_id}#delivery_plan")

    too_much = client.post(url, data={"csrf_token": token, "title": "Second", "due_on": "2026-04-01",
                                      "amount": "400.01", "items": "the rest"})
    html = too_much.get_data(as_text=True)
    assert too_much.status_code == 422 and "Second" in html and "the rest" in html  # what was typed stays
    assert "may not exceed the contract amount: at most 400.00 CNY is left" in field_error(html, "plan-amount-errors")

    nothing = client.post(url, data={"csrf_token": token, "title": "Empty", "due_on": "2026-04-01"})
    assert nothing.status_code == 422
    assert "Enter the items to deliver, an amount, or both." in field_error(nothing.get_data(as_text=True),
                                                                            "plan-items-errors")
    no_date = client.post(url, data={"csrf_token": token, "title": "No date", "items": "x"})
    assert no_date.status_code == 422
    assert "This field is required." in field_error(no_date.get_data(as_text=True), "plan-due-errors")
    dated = client.post(url, data={"csrf_token": token, "title": "Dated", "items": "x", "due_on": "2026-04-01",
                                   "delivered_on": "2026-04-02"})
    assert "Only a delivered milestone" in field_error(dated.get_data(as_text=True), "plan-delivered-errors")
    assert len(_plans(system_session, contract_id)) == 1

    # a cancelled milestone does not count; items alone are enough
    assert client.post(url, data={"csrf_token": token, "title": "Dropped", "due_on": "2026-04-01",
                                  "amount": "400.00", "status": "cancelled"}).status_code == 302
    assert client.post(url, data={"csrf_token": token, "title": "Rest", "due_on": "2026-05-01",
                                  "amount": "400.00"}).status_code == 302
    assert client.post(url, data={"csrf_token": token, "title": "Manuals", "due_on": "2026-05-01",
                                  "items": "操作手册"}).status_code == 302
    plans = _plans(system_session, contract_id)
    assert [p.title for p in plans] == ["首批设备 First batch", "Dropped", "Rest", "Manuals"]
    assert [p.position for p in plans] == [1, 2, 3, 4]

    # the contract amount cannot drop below what the plan holds (error at the contract's amount field)
    edit = client.get(f"/r/contract/{contract_id}/edit")
    version = reload(system_session, Contract, contract_id).version
    response = client.post(f"/r/contract/{contract_id}/edit", data={
        "csrf_token": token, "title": "设备采购合同 Equipment purchase", "customer_id": customer.id,
        "currency": "CNY", "amount": "900.00", "status": "draft", "version": version})
    assert edit.status_code == 200 and response.status_code == 422
    assert "already holds 1,000.00" in field_error(response.get_data(as_text=True), "f-amount-errors")
    response = client.post(f"/r/contract/{contract_id}/edit", data={
        "csrf_token": token, "title": "设备采购合同 Equipment purchase", "customer_id": customer.id,
        "currency": "USD", "amount": "1000.00", "status": "draft", "version": version})
    assert response.status_code == 422
    assert "holds amounts in CNY" in field_error(response.get_data(as_text=True), "f-currency-errors")
    contract = reload(system_session, Contract, contract_id)
    assert (contract.amount, contract.currency) == (Decimal("1000.00"), "CNY")


def test_edit_deliver_and_overdue_highlight(org, client_as, csrf, system_session):
    from core.numbering import today
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    contract_id = create_contract(client, csrf, customer, amount="500.00")
    token = csrf(client, f"/r/contract/{contract_id}")
    past = (today() - dt.timedelta(days=5)).isoformat()
    future = (today() + dt.timedelta(days=5)).isoformat()
    for title, due in (("Late one", past), ("Next one", future)):
        client.post(f"/contracts/{contract_id}/plans", data={"csrf_token": token, "title": title, "due_on": due,
                                                             "items": "x"})
    late, upcoming = _plans(system_session, contract_id)
    html = client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    assert f'<tr data-plan-id="{late.id}" class="table-danger" data-overdue>' in html
    assert f'<tr data-plan-id="{upcoming.id}">' in html and "Overdue" in html

    form = client.get(f"/contracts/{contract_id}/plans/{late.id}")
    assert form.status_code == 200 and "Late one" in form.get_data(as_text=True)
    stale = client.post(f"/contracts/{contract_id}/plans/{late.id}", data={
        "csrf_token": token, "title": "Renamed", "due_on": past, "items": "x", "version": late.version + 5})
    assert stale.status_code == 409 and _plans(system_session, contract_id)[0].title == "Late one"
    saved = client.post(f"/contracts/{contract_id}/plans/{late.id}", data={
        "csrf_token": token, "title": "Renamed", "due_on": past, "items": "x", "status": "in_progress",
        "version": late.version})
    assert saved.status_code == 302
    assert client.post(f"/contracts/{contract_id}/plans/{late.id}/deliver",
                       data={"csrf_token": token}).status_code == 302
    late = _plans(system_session, contract_id)[0]
    assert (late.title, late.status, late.delivered_on) == ("Renamed", "delivered", today())
    html = client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    assert "data-overdue" not in html
    assert client.post(f"/contracts/{contract_id}/plans/{upcoming.id}/delete",
                       data={"csrf_token": token}).status_code == 302
    assert [p.id for p in _plans(system_session, contract_id)] == [late.id]


def test_a_closed_contract_keeps_its_plan(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    contract_id = create_contract(client, csrf, customer, amount="500.00")
    token = csrf(client, f"/r/contract/{contract_id}")
    client.post(f"/contracts/{contract_id}/status", data={"csrf_token": token, "status": "cancelled"})
    response = client.post(f"/contracts/{contract_id}/plans", data={"csrf_token": token, "title": "Late",
                                                                    "due_on": "2026-01-01", "items": "x"})
    assert response.status_code == 422 and "can no longer change" in response.get_data(as_text=True)
    assert _plans(system_session, contract_id) == []
    assert 'id="plan-form"' not in client.get(f"/r/contract/{contract_id}").get_data(as_text=True)


def test_milestones_through_the_api(org, api_as, system_session):
    customer = make_customer(system_session, org.rep_east)
    api = api_as(org.rep_east)
    contract = api.post("/api/v1/contract", json={"title": "API", "customer_id": customer.id, "amount": "100",
                                                  "currency": "JPY"}).get_json()
    url = f"/api/v1/contract/{contract['id']}/delivery-plans"
    created = api.post(url, json={"title": "Phase 1", "due_on": "2026-06-01", "amount": "60"})
    assert created.status_code == 201, created.get_json()
    plan = created.get_json()
    assert plan["amount"] == "60.00" and plan["status"] == "planned"
    cents = api.post(url, json={"title": "Yen cents", "due_on": "2026-06-01", "amount": "1.50"})
    assert cents.status_code == 422 and "amount" in cents.get_json()["fields"]  # JPY has no minor units
    over = api.post(url, json={"title": "Phase 2", "due_on": "2026-07-01", "amount": "41"})
    assert over.status_code == 422 and "amount" in over.get_json()["fields"]
    delivered = api.patch(f"{url}/{plan['id']}", json={"status": "delivered", "version": plan["version"]})
    assert delivered.status_code == 200 and delivered.get_json()["delivered_on"] is not None
    stale = api.patch(f"{url}/{plan['id']}", json={"title": "x", "version": plan["version"]})
    assert stale.status_code == 409
    listed = api.get(url).get_json()
    assert listed["currency"] == "JPY" and [p["title"] for p in listed["items"]] == ["Phase 1"]
