"""Contracts: numbering, checks at the field, the guarded status flow, renewal and the expiring list."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import select

from contracts_helpers import create_contract, field_error, make_contact, make_customer, reload
from core.models import AuditEntry
from plugins.contracts.models import Contract


def test_a_new_contract_is_numbered_and_its_contact_must_be_the_customers(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    other = make_customer(system_session, org.rep_east, "Other Co")
    stranger = make_contact(system_session, other, org.rep_east, "Not theirs")
    client = client_as(org.rep_east)
    first, second = create_contract(client, csrf, customer), create_contract(client, csrf, customer)
    a, b = reload(system_session, Contract, first), reload(system_session, Contract, second)
    assert re.fullmatch(r"HT-\d{4}-0001", a.number) and b.number == a.number[:-4] + "0002"
    assert a.status == "draft" and a.amount == Decimal("1000.00") and a.owner_id == org.rep_east.id
    response = create_contract(client, csrf, customer, expect=422, contact_id=stranger.id)
    assert "This contact does not belong to the customer." in field_error(response.get_data(as_text=True),
                                                                          "f-contact_id-errors")
    response = create_contract(client, csrf, customer, expect=422, amount="-5")
    assert "f-amount-errors" in response.get_data(as_text=True)
    response = create_contract(client, csrf, customer, expect=422, starts_on="2026-05-01", ends_on="2026-04-01")
    assert "The end date is before the start date." in field_error(response.get_data(as_text=True),
                                                                   "f-ends_on-errors")
    assert len(system_session.execute(select(Contract.id)).all()) == 2


def test_the_status_flow_is_guarded_everywhere(org, client_as, api_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    contract_id = create_contract(client, csrf, customer)
    token = csrf(client, f"/r/contract/{contract_id}")

    def move(status):
        version = reload(system_session, Contract, contract_id).version
        return client.post(f"/contracts/{contract_id}/status", data={"csrf_token": token, "status": status,
                                                                     "version": version})

    move("completed")  # a draft cannot be completed
    assert reload(system_session, Contract, contract_id).status == "draft"
    assert "cannot go from Draft to Completed" in client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    move("active")
    contract = reload(system_session, Contract, contract_id)
    assert contract.status == "active" and contract.signed_on is not None  # signing dates it today
    move("completed")
    assert reload(system_session, Contract, contract_id).status == "completed"
    # closed stays closed: through the page, the generic form and the API alike
    move("active")
    assert reload(system_session, Contract, contract_id).status == "completed"
    api = api_as(org.rep_east)
    refused = api.patch(f"/api/v1/contract/{contract_id}", json={"status": "draft"})
    assert refused.status_code == 422 and "status" in refused.get_json()["fields"]
    refused = api.patch(f"/api/v1/contract/{contract_id}", json={"amount": "5.00"})
    assert refused.status_code == 422 and "amount" in refused.get_json()["fields"]
    # a new contract starts as a draft (or already signed), never closed
    created = api.post("/api/v1/contract", json={"title": "T", "customer_id": customer.id, "amount": "10",
                                                 "status": "completed"})
    assert created.status_code == 422 and "status" in created.get_json()["fields"]
    changes = [a.changes.get("status") for a in system_session.execute(
        select(AuditEntry).where(AuditEntry.entity == "contract", AuditEntry.record_id == contract_id)
        .order_by(AuditEntry.id)).scalars()]
    assert ["draft", "active"] in changes and ["active", "completed"] in changes


def test_quote_link_and_owner_fields_cannot_be_forged_through_the_api(org, api_as, system_session):
    customer = make_customer(system_session, org.rep_east)
    api = api_as(org.rep_east)
    response = api.post("/api/v1/contract", json={"title": "T", "customer_id": customer.id, "amount": "10",
                                                  "quote_id": 1})
    assert response.status_code == 422 and "quote_id" in response.get_json()["fields"]
    response = api.post("/api/v1/contract", json={"title": "T", "customer_id": customer.id, "amount": "10.005"})
    assert response.status_code == 422 and "amount" in response.get_json()["fields"]
    response = api.post("/api/v1/contract", json={"title": "T", "customer_id": customer.id, "amount": "10",
                                                  "currency": "XYZ"})
    assert response.status_code == 422 and "currency" in response.get_json()["fields"]
    ok = api.post("/api/v1/contract", json={"title": "T", "customer_id": customer.id, "amount": "10",
                                            "currency": "eur"})
    assert ok.status_code == 201 and ok.get_json()["currency"] == "EUR" and ok.get_json()["number"].startswith("HT-")


def test_renewal_creates_the_linked_follow_on_contract_once(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    old_id = create_contract(client, csrf, customer, amount="88000.00", status="active", signed_on="2025-12-20",
                             starts_on="2026-01-01", ends_on="2026-12-31", renewal_on="2026-11-30",
                             terms="按年续签 Yearly")
    token = csrf(client, f"/r/contract/{old_id}")
    assert f'action="/contracts/{old_id}/renew"' in client.get(f"/r/contract/{old_id}").get_data(as_text=True)
    response = client.post(f"/contracts/{old_id}/renew", data={"csrf_token": token})
    assert response.status_code == 302 and "/edit" in response.headers["Location"]
    new_id = int(re.search(r"/r/contract/(\d+)/edit", response.headers["Location"]).group(1))
    new = reload(system_session, Contract, new_id)
    assert (new.previous_id, new.status, new.amount, new.customer_id, new.terms) == (
        old_id, "draft", Decimal("88000.00"), customer.id, "按年续签 Yearly")
    assert (new.starts_on, new.ends_on, new.renewal_on) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31),
                                                           dt.date(2027, 11, 30))
    assert new.number != reload(system_session, Contract, old_id).number
    # the old page links to its follow-on, the new one back to the old one
    old_page = client.get(f"/r/contract/{old_id}").get_data(as_text=True)
    assert 'id="contract-follow-on"' in old_page and new.number in old_page
    assert "Renews contract" in client.get(f"/r/contract/{new_id}").get_data(as_text=True)
    # renewed once only; a draft cannot be renewed
    client.post(f"/contracts/{old_id}/renew", data={"csrf_token": token})
    assert "already been renewed" in client.get(f"/r/contract/{old_id}").get_data(as_text=True)
    client.post(f"/contracts/{new_id}/renew", data={"csrf_token": token})
    page = client.get(f"/r/contract/{new_id}").get_data(as_text=True)
    assert "Only an active or completed contract can be renewed." in page
    assert len(system_session.execute(select(Contract.id)).all()) == 2


def test_expiring_list_shows_active_contracts_ending_within_the_period(org, client_as, csrf, system_session):
    from core.numbering import today
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    on = today()

    def active(title, ends, renewal=None):
        extra = {"renewal_on": renewal.isoformat()} if renewal else {}
        return create_contract(client, csrf, customer, title=title, status="active", signed_on=on.isoformat(),
                               ends_on=ends.isoformat(), **extra)

    soon = active("Ends soon", on + dt.timedelta(days=10))
    late = active("Ends late", on + dt.timedelta(days=200))
    decide = active("Decide soon", on + dt.timedelta(days=300), renewal=on + dt.timedelta(days=20))
    past = active("Past but active", on - dt.timedelta(days=3))
    create_contract(client, csrf, customer, title="Draft ends soon", ends_on=(on + dt.timedelta(days=5)).isoformat())
    other = make_customer(system_session, org.rep_west, "West Co")
    create_contract(client_as(org.rep_west), csrf, other, title="West ends soon", status="active",
                    signed_on=on.isoformat(), ends_on=(on + dt.timedelta(days=5)).isoformat())

    html = client.get("/contracts/expiring").get_data(as_text=True)
    listed = [int(x) for x in re.findall(r'<tr data-contract-id="(\d+)"', html)]
    assert listed == [past, soon, decide]
    assert "ended 3 days ago" in html and "in 10 days" in html and "West ends soon" not in html
    wider = client.get("/contracts/expiring?days=365").get_data(as_text=True)
    assert str(late) in re.findall(r'data-contract-id="(\d+)"', wider)
    dashboard = client.get("/").get_data(as_text=True)
    assert 'id="widget-expiring-contracts"' in dashboard and "Ends soon" in dashboard
    detail = client.get(f"/r/contract/{soon}").get_data(as_text=True)
    assert 'id="contract-expiring"' in detail and "Ends in 10 days" in detail


def test_chinese_user_sees_the_contract_pages_in_chinese(org, client_as, csrf, system_session):
    from core.models import User
    customer = make_customer(system_session, org.rep_east)
    client = client_as(org.rep_east)
    contract_id = create_contract(client, csrf, customer)
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    html = client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    assert "合同编号" in html and "交付计划" in html and "草稿" in html and "添加里程碑" in html
    assert "即将到期的合同" in client.get("/contracts/expiring").get_data(as_text=True)
