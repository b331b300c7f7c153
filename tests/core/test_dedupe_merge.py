"""Merging duplicates: values chosen per field, every related row re-linked (core and plugins), audit trail,
recycle bin, one transaction, and the permission rules."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from core.models import Attachment, AuditEntry, Contact, Customer, FollowUp, Tag
from guanxi_example_visits.models import SiteVisit
from hooks import hookimpl


def owned(user):
    return {"owner_id": user.id, "department_id": user.department_id}


@pytest.fixture
def pair(org, system_session):
    """Two customers of rep_east that are one company, each with related rows; returns their ids."""
    s = system_session
    keep = Customer(name="Huahong Trading", phone=None, email="info@huahong.cn", city="Shanghai",
                    custom={"cf_region": "East", "cf_grade": ""}, **owned(org.rep_east))
    dup = Customer(name="上海华宏贸易有限公司", phone="021-5555 0001", email="sales@huahong.cn", city="上海",
                   custom={"cf_region": "North", "cf_grade": "A", "cf_size": 50}, **owned(org.rep_east))
    keep.tags = [Tag(name="VIP")]
    dup.tags = [Tag(name="Exporter")]
    s.add_all([keep, dup])
    s.flush()
    keep_primary = Contact(name="Keep Primary", customer_id=keep.id, is_primary=True, **owned(org.rep_east))
    dup_contact = Contact(name="Dup Primary", customer_id=dup.id, is_primary=True, **owned(org.rep_east))
    foreign_contact = Contact(name="Sub's contact", customer_id=dup.id, **owned(org.rep_east_sub))
    s.add_all([keep_primary, dup_contact, foreign_contact])
    s.flush()
    follow_up = FollowUp(customer_id=dup.id, contact_id=dup_contact.id, content="call", **owned(org.rep_east))
    related = FollowUp(customer_id=None, related_entity="customer", related_id=dup.id, content="note",
                       **owned(org.rep_east_sub))
    deleted_follow_up = FollowUp(customer_id=dup.id, content="old", deleted_at=dt.datetime.now(dt.timezone.utc),
                                 **owned(org.rep_east))
    visit = SiteVisit(customer_id=dup.id, date=dt.date(2024, 5, 6), purpose="plant tour", **owned(org.rep_east))
    attachment = Attachment(entity="customer", record_id=dup.id, filename="contract.pdf", stored_name="a" * 32,
                            content_type="application/pdf", size=10, sha256="0" * 64)
    s.add_all([follow_up, related, deleted_follow_up, visit, attachment])
    s.commit()
    return {"keep": keep.id, "dup": dup.id, "dup_contact": dup_contact.id, "foreign_contact": foreign_contact.id,
            "keep_primary": keep_primary.id, "follow_up": follow_up.id, "related": related.id,
            "deleted_follow_up": deleted_follow_up.id, "visit": visit.id, "attachment": attachment.id}


def fresh(session, model, record_id):
    session.rollback()
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id)
                           .execution_options(include_deleted=True)).unique().scalar_one()


def merge_form(client, csrf, entity, ids, survivor_id, **choices):
    data = {"csrf_token": csrf(client), "ids": [str(i) for i in ids], "survivor_id": str(survivor_id),
            "confirm": "1", **{f"field_{k}": str(v) for k, v in choices.items()}}
    return client.post(f"/dedupe/{entity}/merge", data=data)


def test_merge_page_shows_the_records_and_the_default_choices(org, client_as, pair):
    html = client_as(org.rep_east).get(f"/dedupe/customer/merge?ids={pair['keep']}&ids={pair['dup']}")\
        .get_data(as_text=True)
    assert html.count('type="radio" name="field_name"') == 2
    # the survivor's non-empty value by default, the other record's where the survivor has none
    assert re.search(rf'name="field_name" id="field-name-{pair["keep"]}" value="{pair["keep"]}" checked', html)
    assert re.search(rf'name="field_phone" id="field-phone-{pair["dup"]}" value="{pair["dup"]}" checked', html)
    assert "上海华宏贸易有限公司" in html and "021-5555 0001" in html


def test_merge_relinks_everything_records_the_audit_and_bins_the_duplicate(org, client_as, csrf, pair,
                                                                          system_session):
    client = client_as(org.rep_east)
    response = merge_form(client, csrf, "customer", [pair["keep"], pair["dup"]], pair["keep"], city=pair["dup"])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/customer/{pair['keep']}")

    s = system_session
    keep, dup = fresh(s, Customer, pair["keep"]), fresh(s, Customer, pair["dup"])
    assert (keep.name, keep.city, keep.phone, keep.email) == ("Huahong Trading", "上海", "021-5555 0001",
                                                              "info@huahong.cn")
    assert keep.phone_key == "02155550001"  # keys follow the new values
    assert keep.custom == {"cf_region": "East", "cf_grade": "A", "cf_size": 50}  # per key, survivor first
    assert sorted(t.name for t in keep.tags) == ["Exporter", "VIP"]
    assert dup.deleted_at is not None and dup.name == "上海华宏贸易有限公司"  # in the recycle bin, intact

    contacts = {c.id: c for c in s.execute(select(Contact)).scalars()}
    assert {contacts[i].customer_id for i in (pair["dup_contact"], pair["foreign_contact"])} == {keep.id}
    assert contacts[pair["keep_primary"]].is_primary and not contacts[pair["dup_contact"]].is_primary
    assert fresh(s, FollowUp, pair["follow_up"]).customer_id == keep.id
    assert fresh(s, FollowUp, pair["deleted_follow_up"]).customer_id == keep.id
    assert fresh(s, FollowUp, pair["related"]).related_id == keep.id
    assert fresh(s, Attachment, pair["attachment"]).record_id == keep.id
    assert fresh(s, SiteVisit, pair["visit"]).customer_id == keep.id  # the example plugin's hookimpl

    entries = {e.record_id: e for e in s.execute(select(AuditEntry).where(AuditEntry.action == "merge")).scalars()}
    assert entries[keep.id].changes["merged_ids"] == [None, [dup.id]]
    assert entries[keep.id].changes["city"] == ["Shanghai", "上海"]
    assert entries[keep.id].user_id == org.rep_east.id
    assert entries[dup.id].changes == {"merged_into": [None, keep.id]}

    detail = client.get(f"/r/customer/{keep.id}").get_data(as_text=True)
    trail = detail[detail.index('id="audit-trail"'):]
    assert "</strong> merged" in trail and "Merged ids" in trail
    assert "Dup Primary" in detail  # the re-linked contact on the survivor's page


def test_merge_contacts_relinks_their_follow_ups(org, client_as, csrf, system_session):
    s = system_session
    firm = Customer(name="Firm", **owned(org.rep_east))
    s.add(firm)
    s.flush()
    one = Contact(name="Li Na", customer_id=firm.id, mobile="13900000001", **owned(org.rep_east))
    two = Contact(name="李娜", customer_id=firm.id, email="li@firm.cn", **owned(org.rep_east))
    s.add_all([one, two])
    s.flush()
    call = FollowUp(customer_id=firm.id, contact_id=two.id, content="call", **owned(org.rep_east))
    s.add(call)
    s.commit()
    response = merge_form(client_as(org.rep_east), csrf, "contact", [one.id, two.id], one.id, name=two.id)
    assert response.status_code == 302
    survivor = fresh(s, Contact, one.id)
    assert (survivor.name, survivor.mobile, survivor.email) == ("李娜", "13900000001", "li@firm.cn")
    assert fresh(s, FollowUp, call.id).contact_id == one.id
    assert fresh(s, Contact, two.id).deleted_at is not None


class FailingMerge:
    """A plugin whose re-linking fails: the merge must leave nothing half done."""

    @hookimpl
    def merge_records(self, entity, survivor_id, merged_ids, session):
        raise RuntimeError("plugin could not re-link")


def test_a_failing_plugin_rolls_the_whole_merge_back(org, client_as, csrf, pair, register_plugin, system_session):
    failing_app = register_plugin(FailingMerge(), name="failingmerge")
    client = client_as(org.rep_east, failing_app)
    with pytest.raises(RuntimeError, match="could not re-link"):
        merge_form(client, csrf, "customer", [pair["keep"], pair["dup"]], pair["keep"], city=pair["dup"])
    s = system_session
    keep, dup = fresh(s, Customer, pair["keep"]), fresh(s, Customer, pair["dup"])
    assert (keep.city, keep.phone, dup.deleted_at) == ("Shanghai", None, None)
    assert sorted(t.name for t in keep.tags) == ["VIP"]
    assert fresh(s, Contact, pair["dup_contact"]).customer_id == dup.id
    assert fresh(s, FollowUp, pair["follow_up"]).customer_id == dup.id
    assert fresh(s, Attachment, pair["attachment"]).record_id == dup.id
    assert fresh(s, SiteVisit, pair["visit"]).customer_id == dup.id
    assert s.execute(select(AuditEntry).where(AuditEntry.action == "merge")).first() is None


def test_nobody_merges_records_he_may_not_edit(org, client_as, csrf, pair, system_session):
    west = Customer(name="West own", **owned(org.rep_west))
    west_two = Customer(name="West own 2", **owned(org.rep_west))
    system_session.add_all([west, west_two])
    system_session.commit()
    rep_west = client_as(org.rep_west)
    assert rep_west.get(f"/dedupe/customer/merge?ids={pair['keep']}&ids={pair['dup']}").status_code == 404
    assert merge_form(rep_west, csrf, "customer", [pair["keep"], pair["dup"]], pair["keep"]).status_code == 404
    # one of his own with one of rep_east's: the same 404, nothing changed
    assert merge_form(rep_west, csrf, "customer", [west.id, pair["dup"]], west.id).status_code == 404
    assert merge_form(rep_west, csrf, "customer", [pair["dup"], west.id], pair["dup"]).status_code == 404
    assert fresh(system_session, Customer, pair["dup"]).deleted_at is None
    # the service agent sees every customer but edits none
    assert client_as(org.service).get(f"/dedupe/customer/merge?ids={pair['keep']}&ids={pair['dup']}")\
        .status_code == 403
    # his own two records: fine
    assert merge_form(rep_west, csrf, "customer", [west.id, west_two.id], west.id).status_code == 302


def test_merge_refuses_bad_requests(org, client_as, csrf, pair):
    client = client_as(org.boss)
    assert client.get(f"/dedupe/customer/merge?ids={pair['keep']}").status_code == 302  # one record: back
    assert client.get("/dedupe/customer/merge?ids=abc").status_code == 400
    assert merge_form(client, csrf, "customer", [pair["keep"], pair["dup"]], 999).status_code == 400
    assert client.get("/dedupe/product/merge?ids=1&ids=2").status_code == 404


def test_merge_owner_choice_stays_inside_the_callers_scope(org, client_as, csrf, system_session):
    mine = Customer(name="Mine", **owned(org.rep_east))
    sub = Customer(name="Mine too", **owned(org.rep_east_sub))
    system_session.add_all([mine, sub])
    system_session.commit()
    # the manager may give the survivor either owner of his team
    response = merge_form(client_as(org.manager_east), csrf, "customer", [mine.id, sub.id], mine.id,
                          owner_id=sub.id)
    assert response.status_code == 302
    survivor = fresh(system_session, Customer, mine.id)
    assert (survivor.owner_id, survivor.department_id) == (org.rep_east_sub.id, org.rep_east_sub.department_id)


def test_bulk_merge_action_on_the_list(org, client_as, csrf, pair):
    client = client_as(org.rep_east)
    html = client.get("/r/customer/").get_data(as_text=True)
    assert 'formaction="/dedupe/customer/merge"' in html
    chooser = client.post("/dedupe/customer/merge", data={"csrf_token": csrf(client),
                                                          "ids": [str(pair["dup"]), str(pair["keep"])]})
    assert chooser.status_code == 200 and 'id="merge-form"' in chooser.get_data(as_text=True)
    assert 'formaction="/dedupe/' not in client.get("/r/product/").get_data(as_text=True)
