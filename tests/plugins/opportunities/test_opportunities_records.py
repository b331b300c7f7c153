"""Creating and editing opportunities: the generic form and API, the leads conversion contract, the rules
of ``apply_rules`` (default stage and currency, stage history, close reasons, contact of the customer)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core import services as core_services
from core.models import Contact
from core.scope import build_user_scope
from plugins.opportunities.models import Opportunity, OpportunityStageHistory

from conftest import owned


def _only(system_session, **where):
    system_session.rollback()  # end the snapshot (MariaDB reads repeatably within one)
    system_session.expire_all()
    stmt = select(Opportunity)
    for key, value in where.items():
        stmt = stmt.where(getattr(Opportunity, key) == value)
    return system_session.execute(stmt).scalar_one()


def test_create_through_the_form_starts_in_the_first_stage(org, client_as, csrf, stages, customer_of,
                                                           system_session):
    customer = customer_of(org.rep_east)
    rep = client_as(org.rep_east)
    form = rep.get(f"/r/opportunity/new?customer_id={customer.id}").get_data(as_text=True)
    for name in ("name", "customer_id", "stage_id", "amount", "currency", "expected_close", "close_reason"):
        assert f'name="{name}"' in form
    assert "Initial contact" in form and "Negotiation" in form
    response = rep.post("/r/opportunity/new", data={
        "csrf_token": csrf(rep), "name": "东方电气扩容项目", "customer_id": str(customer.id), "stage_id": "",
        "amount": "128000.50", "currency": "", "expected_close": "2031-03-15", "source": "referral",
        "competitors": "西门子, 施耐德"})
    assert response.status_code == 302, response.get_data(as_text=True)
    record = _only(system_session, name="东方电气扩容项目")
    assert record.stage_id == stages["initial_contact"].id and record.currency == "CNY"
    assert record.amount == Decimal("128000.50") and record.expected_close == dt.date(2031, 3, 15)
    assert record.owner_id == org.rep_east.id and record.closed_at is None
    history = system_session.execute(select(OpportunityStageHistory)).scalars().all()
    assert [(h.opportunity_id, h.from_stage_id, h.to_stage_id, h.changed_by_id) for h in history] == [
        (record.id, None, stages["initial_contact"].id, org.rep_east.id)]
    detail = rep.get(f"/r/opportunity/{record.id}").get_data(as_text=True)
    assert "东方电气扩容项目" in detail and 'id="stage-history"' in detail and "Initial contact" in detail
    assert "64,000.25" not in detail and "12,800.05 CNY" in detail  # weighted at 10 %


def test_bad_input_is_reported_at_the_field_and_kept(org, client_as, csrf, stages, customer_of, system_session):
    customer = customer_of(org.rep_east)
    rep = client_as(org.rep_east)
    response = rep.post("/r/opportunity/new", data={
        "csrf_token": csrf(rep), "name": "保留我输入的名字", "customer_id": str(customer.id),
        "amount": "十万", "currency": "rmb1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid number." in html and "three-letter currency code" in html and "保留我输入的名字" in html
    assert system_session.execute(select(Opportunity)).first() is None


def test_won_through_the_edit_form_needs_a_matching_reason(org, client_as, csrf, stages, opportunity_of,
                                                           system_session):
    record = opportunity_of(org.rep_east, "东方电气扩容")
    rep = client_as(org.rep_east)
    base = {"csrf_token": csrf(rep), "version": str(record.version), "name": record.name,
            "customer_id": str(record.customer_id), "amount": "1000.00", "stage_id": str(stages["lost"].id)}
    refused = rep.post(f"/r/opportunity/{record.id}/edit", data=base)
    assert refused.status_code == 422 and "Choose why the deal was lost." in refused.get_data(as_text=True)
    done = rep.post(f"/r/opportunity/{record.id}/edit", data={**base, "close_reason": "loss_competitor",
                                                              "close_note": "对手报价低 15%"})
    assert done.status_code == 302
    lost = _only(system_session, id=record.id)
    assert lost.stage_id == stages["lost"].id and lost.close_reason == "loss_competitor" and lost.closed_at
    assert len(system_session.execute(select(OpportunityStageHistory)).scalars().all()) == 1


def test_api_create_and_list_filter_by_stage(org, api_as, stages, customer_of, opportunity_of):
    customer = customer_of(org.rep_east)
    api = api_as(org.rep_east)
    created = api.post("/api/v1/opportunity", json={
        "name": "API 机会", "customer_id": customer.id, "amount": "5000.00", "currency": "USD",
        "stage_id": stages["proposal"].id, "expected_close": "2031-01-31"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["stage_id"] == stages["proposal"].id and body["amount"] == "5000.00" and body["currency"] == "USD"
    opportunity_of(org.rep_east, "另一个", "initial_contact")
    listed = api.get(f"/api/v1/opportunity?stage_id={stages['proposal'].id}").get_json()["items"]
    assert [item["name"] for item in listed] == ["API 机会"]
    missing = api.post("/api/v1/opportunity", json={"name": "无客户", "amount": "1.00"})
    assert missing.status_code == 422 and "customer_id" in missing.get_json()["fields"]


def test_leads_conversion_contract(app, org, stages, customer_of, system_session):
    """The leads module calls ``core.services.create`` with the "opportunity" spec and plain values."""
    customer = customer_of(org.rep_east)
    gx = app.extensions["guanxi"]
    session = gx.new_session(build_user_scope(system_session, org.rep_east, gx.entities, gx.hook))
    try:
        record = core_services.create(session, gx.entities["opportunity"], {
            "name": "线索转化：苏州精密", "customer_id": customer.id, "amount": "88000.00", "currency": "CNY",
            "source": "website", "expected_close": dt.date(2031, 2, 1), "lead_id": 42}, gx.entities)
    finally:
        session.close()
    saved = _only(system_session, id=record.id)
    assert saved.stage_id == stages["initial_contact"].id and saved.amount == Decimal("88000.00")
    assert saved.lead_id == 42 and saved.source == "website" and saved.owner_id == org.rep_east.id
    assert system_session.execute(select(OpportunityStageHistory.to_stage_id)).scalars().all() == [
        stages["initial_contact"].id]


def test_the_contact_must_belong_to_the_customer(org, client_as, csrf, stages, customer_of, system_session):
    first, second = customer_of(org.rep_east, "甲公司"), customer_of(org.rep_east, "乙公司")
    contact = Contact(name="乙联系人", customer_id=second.id, **owned(org.rep_east))
    system_session.add(contact)
    system_session.commit()
    rep = client_as(org.rep_east)
    response = rep.post("/r/opportunity/new", data={
        "csrf_token": csrf(rep), "name": "错配", "customer_id": str(first.id), "contact_id": str(contact.id),
        "amount": "1.00"})
    assert response.status_code == 422 and "does not belong to the customer" in response.get_data(as_text=True)


def test_a_salesperson_cannot_attach_another_teams_customer(org, client_as, csrf, stages, customer_of,
                                                            system_session):
    west_customer = customer_of(org.rep_west, "华西客户")
    rep = client_as(org.rep_east)
    response = rep.post("/r/opportunity/new", data={
        "csrf_token": csrf(rep), "name": "越权", "customer_id": str(west_customer.id), "amount": "1.00"})
    assert response.status_code == 422
    assert system_session.execute(select(Opportunity)).first() is None


def test_schema_defaults_serve_imports(app, stages):
    """Imports write rows in bulk (no on_save): the schema's defaults give them the first stage and currency."""
    from plugins.opportunities.schemas import OpportunitySchema
    with app.app_context():
        loaded = OpportunitySchema().load({"name": "导入", "customer_id": 1, "amount": "10.5", "currency": " "})
    assert loaded["stage_id"] == stages["initial_contact"].id and loaded["currency"] == "CNY"
    assert loaded["amount"] == Decimal("10.50")


def test_csv_import_of_opportunities(org, client_as, csrf, stages, customer_of, system_session):
    from tests.core.import_helpers import csv_bytes, full_import

    customer = customer_of(org.rep_east, "导入客户")
    rep = client_as(org.rep_east)
    data = csv_bytes([["名称", "客户", "阶段", "金额", "预计成交"],
                      ["导入机会一", "导入客户", "Proposal / quote", "1200.50", "2031-05-01"],
                      ["导入机会二", "导入客户", "", "99", ""]])
    full_import(rep, csrf, "opportunity", data, {0: "name", 1: "customer_id", 2: "stage_id", 3: "amount",
                                                 4: "expected_close"})
    system_session.rollback()
    rows = {o.name: o for o in system_session.execute(select(Opportunity)).scalars()}
    assert set(rows) == {"导入机会一", "导入机会二"}
    assert rows["导入机会一"].stage_id == stages["proposal"].id and rows["导入机会一"].amount == Decimal("1200.50")
    assert rows["导入机会二"].stage_id == stages["initial_contact"].id and rows["导入机会二"].currency == "CNY"
    assert {o.customer_id for o in rows.values()} == {customer.id} and {o.owner_id for o in rows.values()} == {
        org.rep_east.id}


def test_imported_opportunities_follow_the_stage_rules(org, client_as, csrf, stages, customer_of, system_session):
    """Imported one by one through on_save: a stage history row each, and won needs its reason."""
    from tests.core.import_helpers import csv_bytes, full_import, load_job

    customer_of(org.rep_east, "规则客户")
    rep = client_as(org.rep_east)
    data = csv_bytes([["名称", "客户", "阶段", "金额"], ["进行中", "规则客户", "Proposal / quote", "100"],
                      ["没理由的赢单", "规则客户", stages["won"].label_en, "200"]])
    job_id = full_import(rep, csrf, "opportunity", data, {0: "name", 1: "customer_id", 2: "stage_id", 3: "amount"})
    job = load_job(system_session, job_id)
    assert (job.created, job.failed) == (1, 1)
    imported = system_session.execute(select(Opportunity)).scalars().all()
    assert [o.name for o in imported] == ["进行中"]
    history = system_session.execute(select(OpportunityStageHistory)).scalars().all()
    assert [(h.opportunity_id, h.to_stage_id) for h in history] == [(imported[0].id, stages["proposal"].id)]
