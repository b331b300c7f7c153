"""Converting a lead: customer + contact (+ opportunity), follow-ups and files kept, duplicates offered,
one transaction, data scope."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from marshmallow import fields
from sqlalchemy import Date, Integer, MetaData, Numeric, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db import NAMING_CONVENTION
from core.entities import EntitySpec
from core.models import Attachment, AuditEntry, Contact, Customer, FollowUp
from core.permissions import Permission, StockRole
from core.schemas import OwnedSchema, text_field
from hooks import hookimpl
from tests.plugins.leads.leads_helpers import field_errors, load_lead, make_lead

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def convert_form(token, **values):
    form = {"csrf_token": token, "customer_mode": "new", "customer_name": "蜀汉集团 Shu Han Group",
            "customer_phone": "028-8888 6666", "customer_email": "info@shuhan.example", "customer_address": "成都",
            "contact_name": "刘备 Liu Bei", "contact_title": "董事长 Chairman", "contact_mobile": "13700000001",
            "contact_phone": "", "contact_email": "liubei@shuhan.example", "contact_wechat": "liubei_sh"}
    form.update(values)
    return form


def count(session, model):
    session.commit()
    return session.execute(select(func.count(model.id))).scalar_one()


@pytest.fixture
def lead_with_history(gx, org, client_as, csrf):
    """rep_east's lead with two follow-ups (one by his manager) and an uploaded file."""
    lead_id = make_lead(gx, org.rep_east, company="蜀汉集团 Shu Han Group", mobile="13700000001",
                        email="liubei@shuhan.example", source="exhibition", status="qualified")
    with gx.system_session("test: follow-ups") as session:
        for author, text_ in ((org.rep_east, "第一次电话 first call"), (org.manager_east, "经理拜访 manager visit")):
            session.add(FollowUp(content=text_, related_entity="lead", related_id=lead_id, owner_id=author.id,
                                 department_id=author.department_id))
        session.commit()
    rep = client_as(org.rep_east)
    token = csrf(rep, f"/r/lead/{lead_id}")
    uploaded = rep.post(f"/attachments/lead/{lead_id}", data={"csrf_token": token,
                        "file": (io.BytesIO(PDF), "需求说明.pdf")}, content_type="multipart/form-data")
    assert uploaded.status_code == 302
    return lead_id


def test_conversion_creates_customer_and_contact_and_keeps_history(gx, org, client_as, csrf, system_session,
                                                                   lead_with_history):
    lead_id = lead_with_history
    rep = client_as(org.rep_east)
    page = rep.get(f"/leads/{lead_id}/convert").get_data(as_text=True)
    assert 'value="蜀汉集团 Shu Han Group"' in page and 'value="13700000001"' in page  # prefilled from the lead
    token = csrf(rep, f"/leads/{lead_id}/convert")
    response = rep.post(f"/leads/{lead_id}/convert", data=convert_form(token))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    customer = system_session.execute(select(Customer)).scalar_one()
    contact = system_session.execute(select(Contact)).scalar_one()
    assert response.headers["Location"].endswith(f"/r/customer/{customer.id}")
    assert (customer.name, customer.kind, customer.source, customer.owner_id, customer.phone_key) == (
        "蜀汉集团 Shu Han Group", "company", "exhibition", org.rep_east.id, "02888886666")  # core rules applied
    assert (contact.customer_id, contact.name, contact.is_primary, contact.wechat) == (
        customer.id, "刘备 Liu Bei", True, "liubei_sh")
    lead = load_lead(gx, lead_id)
    assert (lead.status, lead.converted_customer_id, lead.converted_contact_id, lead.converted_by_id) == (
        "converted", customer.id, contact.id, org.rep_east.id)
    assert lead.converted_at is not None

    follow_ups = system_session.execute(select(FollowUp).order_by(FollowUp.id)).scalars().all()
    assert [(f.customer_id, f.contact_id, f.related_entity, f.related_id) for f in follow_ups] == [
        (customer.id, contact.id, "lead", lead_id)] * 2  # the lead link stays
    attachment = system_session.execute(select(Attachment)).scalar_one()
    assert (attachment.entity, attachment.record_id) == ("customer", customer.id)
    assert rep.get(f"/attachments/{attachment.id}").status_code == 200  # and it downloads from the customer

    actions = set(system_session.execute(select(AuditEntry.entity, AuditEntry.action)).all())
    assert {("lead", "convert"), ("customer", "create"), ("contact", "create"), ("customer", "attach")} <= actions
    customer_page = rep.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert 'id="from-lead"' in customer_page and f"/r/lead/{lead_id}" in customer_page
    lead_page = rep.get(f"/r/lead/{lead_id}").get_data(as_text=True)
    assert 'id="lead-converted"' in lead_page and f"/leads/{lead_id}/convert" not in lead_page
    # converted: read-only, and not converted twice
    again = rep.get(f"/leads/{lead_id}/convert")
    assert again.status_code == 302
    assert rep.post(f"/leads/{lead_id}/convert", data=convert_form(token)).status_code == 302
    assert count(system_session, Customer) == 1


def test_an_error_after_the_customer_was_made_saves_nothing(gx, org, client_as, csrf, system_session,
                                                            lead_with_history):
    lead_id = lead_with_history
    rep = client_as(org.rep_east)
    token = csrf(rep, f"/leads/{lead_id}/convert")
    # the customer is valid and gets created first; the contact then fails: everything rolls back
    response = rep.post(f"/leads/{lead_id}/convert", data=convert_form(token, contact_name="",
                                                                     contact_email="not-an-email"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This field is required." in field_errors(html, "f-contact_name")
    assert "Not a valid e-mail address." in field_errors(html, "f-contact_email")
    assert 'value="蜀汉集团 Shu Han Group"' in html  # what was typed is kept
    assert count(system_session, Customer) == 0 and count(system_session, Contact) == 0
    lead = load_lead(gx, lead_id)
    assert lead.status == "qualified" and lead.converted_at is None
    assert {f.customer_id for f in system_session.execute(select(FollowUp)).scalars()} == {None}
    assert system_session.execute(select(Attachment.entity)).scalar_one() == "lead"
    assert not system_session.execute(select(AuditEntry).where(AuditEntry.action == "convert")).first()
    # a failure in the middle (after customer and contact were flushed) also leaves nothing behind
    from plugins.leads import conversion
    original = conversion._move_attachments

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    conversion._move_attachments = broken
    try:
        with pytest.raises(RuntimeError):
            rep.post(f"/leads/{lead_id}/convert", data=convert_form(token))
    finally:
        conversion._move_attachments = original
    assert count(system_session, Customer) == 0 and count(system_session, Contact) == 0
    assert load_lead(gx, lead_id).converted_at is None


def test_duplicates_are_offered_and_the_lead_can_join_an_existing_customer(gx, org, client_as, csrf,
                                                                          system_session):
    with gx.system_session("test: customers") as session:
        existing = Customer(name="蜀汉集团有限公司", phone="(028) 8888-6666", owner_id=org.rep_east.id,
                            department_id=org.rep_east.department_id)
        hidden = Customer(name="Shu Han Group", owner_id=org.rep_west.id, department_id=org.rep_west.department_id)
        session.add_all([existing, hidden])
        session.commit()
        existing_id, hidden_id = existing.id, hidden.id
    lead_id = make_lead(gx, org.rep_east, company="蜀汉集团", phone="028 88886666")
    rep = client_as(org.rep_east)
    page = rep.get(f"/leads/{lead_id}/convert").get_data(as_text=True)
    assert 'id="convert-duplicates"' in page and f'id="existing-{existing_id}"' in page
    assert f'id="existing-{hidden_id}"' not in page  # another team's customer is never named
    token = csrf(rep, f"/leads/{lead_id}/convert")
    unchosen = rep.post(f"/leads/{lead_id}/convert", data=convert_form(token, customer_mode="existing"))
    assert unchosen.status_code == 422 and "Choose the existing customer." in unchosen.get_data(as_text=True)
    assert count(system_session, Customer) == 2
    response = rep.post(f"/leads/{lead_id}/convert", data=convert_form(
        token, customer_mode="existing", existing_customer_id=existing_id))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/customer/{existing_id}")
    assert count(system_session, Customer) == 2  # nothing new
    contact = system_session.execute(select(Contact)).scalar_one()
    assert (contact.customer_id, contact.is_primary) == (existing_id, False)
    assert load_lead(gx, lead_id).converted_customer_id == existing_id
    # linking to a customer one cannot see is refused like a missing one
    other = make_lead(gx, org.rep_east, name="另一个")
    refused = rep.post(f"/leads/{other}/convert", data=convert_form(
        token, customer_mode="existing", existing_customer_id=hidden_id))
    assert refused.status_code == 422 and load_lead(gx, other).converted_at is None


def test_scope_a_salesperson_cannot_convert_anothers_lead(gx, org, client_as, csrf, system_session):
    lead_id = make_lead(gx, org.rep_east_sub)
    rep = client_as(org.rep_east)
    assert rep.get(f"/leads/{lead_id}/convert").status_code == 404
    token = csrf(rep, "/r/lead/")
    assert rep.post(f"/leads/{lead_id}/convert", data=convert_form(token)).status_code == 404
    assert client_as(org.procurement).get(f"/leads/{lead_id}/convert").status_code == 403
    assert count(system_session, Customer) == 0
    # his manager may, and the records stay with the lead's owner
    manager = client_as(org.manager_east)
    token = csrf(manager, f"/leads/{lead_id}/convert")
    assert manager.post(f"/leads/{lead_id}/convert", data=convert_form(token)).status_code == 302
    system_session.commit()  # a new snapshot (MariaDB's REPEATABLE READ)
    customer = system_session.execute(select(Customer)).scalar_one()
    assert customer.owner_id == org.rep_east_sub.id


def test_merging_customers_keeps_the_lead_link(gx, org, system_session):
    """core.dedupe.merge calls the module's merge_records hook: the lead follows the surviving customer."""
    from core.dedupe.merge import merge
    from core.scope import build_user_scope, set_scope
    with gx.system_session("test") as session:
        a = Customer(name="A 公司", owner_id=org.boss.id, department_id=org.boss.department_id)
        b = Customer(name="A 公司 (dup)", owner_id=org.boss.id, department_id=org.boss.department_id)
        session.add_all([a, b])
        session.commit()
        a_id, b_id = a.id, b.id
    lead_id = make_lead(gx, org.rep_east, converted_customer_id=b_id)
    session = gx.new_session()
    set_scope(session, build_user_scope(session, org.boss, gx.entities, gx.hook))
    merge(session, gx.entities["customer"], a_id, [b_id], {}, gx.hook)
    session.close()
    assert load_lead(gx, lead_id).converted_customer_id == a_id


# ------------------------------------------------------------------ with the opportunities module

class _FakeBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class FakeOpportunity(_FakeBase):
    """Stands in for the opportunities module when it is not installed (same schema contract)."""

    __tablename__ = "testopp_opportunity"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    source: Mapped[str | None] = mapped_column(String(30))
    expected_close: Mapped[object] = mapped_column(Date, nullable=True)
    stage: Mapped[str] = mapped_column(String(20), default="initial")


class FakeOpportunitySchema(OwnedSchema):
    class Meta(OwnedSchema.Meta):
        exclude = ("custom",)

    name = text_field(200, required=True)
    customer_id = fields.Integer(required=True)
    amount = fields.Decimal(places=2, as_string=True, allow_none=True)
    currency = fields.String(load_default="CNY")
    source = fields.String(allow_none=True)
    expected_close = fields.Date(allow_none=True)


class FakeOpportunities:
    @staticmethod
    @hookimpl
    def register_permissions():
        return [Permission(f"testopp.opportunity.{a}", a) for a in ("view", "create", "edit", "delete")]

    @staticmethod
    @hookimpl
    def register_roles():
        return [StockRole("boss", {f"testopp.opportunity.{a}": "all" for a in ("view", "create", "edit", "delete")})]

    @staticmethod
    @hookimpl
    def entity_specs():
        return [EntitySpec(name="opportunity", module="testopp", model=FakeOpportunity, schema=FakeOpportunitySchema,
                           label="Opportunity", label_plural="Opportunities", custom_fields=False, audit=True)]


@pytest.fixture
def app_with_opportunities(app, gx, register_plugin):
    if gx.entities.get("opportunity") is not None:  # the real module is installed
        yield app
        return
    _FakeBase.metadata.create_all(gx.engine)
    try:
        yield register_plugin(FakeOpportunities, name="testopp")
    finally:
        _FakeBase.metadata.drop_all(gx.engine)


def test_with_opportunities_enabled_an_opportunity_is_created_too(app_with_opportunities, org, client_as, csrf):
    target = app_with_opportunities
    gx = target.extensions["guanxi"]
    lead_id = make_lead(gx, org.boss, company="魏国 Wei Kingdom", source="referral")
    boss = client_as(org.boss, target)
    page = boss.get(f"/leads/{lead_id}/convert").get_data(as_text=True)
    assert 'name="create_opportunity"' in page
    token = csrf(boss, f"/leads/{lead_id}/convert")
    response = boss.post(f"/leads/{lead_id}/convert", data=convert_form(
        token, create_opportunity="1", opportunity_name="魏国 ERP 项目", opportunity_amount="125000.50",
        opportunity_currency="CNY", opportunity_expected_close="2027-03-31"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    lead = load_lead(gx, lead_id)
    model = gx.entities["opportunity"].model
    with gx.system_session("test: opportunity") as session:
        opportunity = session.execute(select(model)).scalar_one()
        assert (opportunity.id, opportunity.customer_id, opportunity.name, opportunity.amount) == (
            lead.converted_opportunity_id, lead.converted_customer_id, "魏国 ERP 项目", Decimal("125000.50"))
    # a bad amount: nothing at all is saved, the error is at the field
    other = make_lead(gx, org.boss, name="司马懿")
    bad = boss.post(f"/leads/{other}/convert", data=convert_form(
        token, create_opportunity="1", opportunity_name="x", opportunity_amount="lots"))
    assert bad.status_code == 422 and field_errors(bad.get_data(as_text=True), "f-opportunity_amount")
    assert load_lead(gx, other).converted_at is None


def test_without_the_opportunities_module_no_opportunity_is_offered(app_with, org, client_as, csrf, system_session):
    only_leads = app_with(modules="leads")  # opportunities (if installed) disabled
    gx = only_leads.extensions["guanxi"]
    assert gx.entities.get("opportunity") is None
    lead_id = make_lead(gx, org.boss)
    boss = client_as(org.boss, only_leads)
    assert 'name="create_opportunity"' not in boss.get(f"/leads/{lead_id}/convert").get_data(as_text=True)
    token = csrf(boss, f"/leads/{lead_id}/convert")
    response = boss.post(f"/leads/{lead_id}/convert", data=convert_form(token, create_opportunity="1",
                                                                        opportunity_name="ignored"))
    assert response.status_code == 302
    assert load_lead(gx, lead_id).converted_opportunity_id is None
    assert count(system_session, Customer) == 1
