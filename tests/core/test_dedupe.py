"""Duplicates: normalised keys, the create-form warning (visible records only) and the duplicate finder."""
from __future__ import annotations

import re

from sqlalchemy import insert, select

from core.models import Contact, Customer


def make_customer(session, owner, name, **fields):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, **fields)
    session.add(record)
    session.commit()
    return record


def make_contact(session, owner, customer, name, **fields):
    record = Contact(name=name, customer_id=customer.id, owner_id=owner.id, department_id=owner.department_id,
                     **fields)
    session.add(record)
    session.commit()
    return record


def customer_names(session):
    session.rollback()  # a fresh snapshot (MariaDB repeatable read)
    session.expire_all()
    return sorted(c.name for c in session.execute(select(Customer)).scalars())


# ---------------------------------------------------------------- keys

def test_keys_follow_orm_creates_updates_and_core_bulk_inserts(org, system_session):
    record = make_customer(system_session, org.rep_east, "上海华宏贸易有限公司", phone="+86 138-0013-8000",
                           email=" Info@HuaHong.CN ")
    assert (record.name_key, record.phone_key, record.email_key) == ("上海华宏贸易", "13800138000", "info@huahong.cn")

    record.phone, record.email = "12", None  # too short to identify anyone; no e-mail
    system_session.commit()
    assert (record.phone_key, record.email_key) == (None, None)

    now = record.created_at  # a Core multi-row INSERT ... RETURNING, as the importer writes
    system_session.execute(insert(Customer.__table__).returning(Customer.__table__.c.id), [
        {"name": "ACME Co., Ltd.", "phone": "0086 13900000001", "email": None, "owner_id": org.rep_east.id,
         "created_at": now, "updated_at": now, "custom": {}, "version": 1},
        {"name": "Beta", "phone": None, "email": "X@Beta.com", "owner_id": org.rep_east.id,
         "created_at": now, "updated_at": now, "custom": {}, "version": 1},
    ]).all()
    system_session.commit()
    keys = {c.name: (c.name_key, c.phone_key, c.email_key)
            for c in system_session.execute(select(Customer).where(Customer.name.in_(["ACME Co., Ltd.", "Beta"])))
            .scalars()}
    assert keys == {"ACME Co., Ltd.": ("acme", "13900000001", None), "Beta": ("beta", None, "x@beta.com")}


def test_contact_phone_key_is_the_mobile_else_the_phone(org, system_session):
    firm = make_customer(system_session, org.rep_east, "Firm")
    both = make_contact(system_session, org.rep_east, firm, "A", mobile="139 0000 0002", phone="010-6552 9988")
    landline = make_contact(system_session, org.rep_east, firm, "B", phone="010-6552 9988")
    assert (both.phone_key, landline.phone_key) == ("13900000002", "01065529988")


# ---------------------------------------------------------------- warning on create

def post_customer(client, csrf, **fields):
    return client.post("/r/customer/new", data={"csrf_token": csrf(client), **fields})


def test_create_warns_about_a_visible_lookalike_and_saves_anyway_when_confirmed(org, client_as, csrf,
                                                                              system_session):
    existing = make_customer(system_session, org.rep_east, "杭州西湖科技有限公司", phone="0571-8888 1234")
    client = client_as(org.rep_east)

    response = post_customer(client, csrf, name="杭州西湖科技", phone="(0571) 88881234")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="duplicate-warning"' in html and f'href="/r/customer/{existing.id}"' in html
    assert "same name" in html and "same phone" in html
    assert 'value="杭州西湖科技"' in html  # what the user typed is kept
    assert customer_names(system_session) == ["杭州西湖科技有限公司"]  # nothing saved yet

    response = post_customer(client, csrf, name="杭州西湖科技", phone="(0571) 88881234", dedupe_confirm="1")
    assert response.status_code == 302
    assert customer_names(system_session) == ["杭州西湖科技", "杭州西湖科技有限公司"]


def test_a_lookalike_the_user_cannot_see_is_never_revealed(org, client_as, csrf, system_session):
    make_customer(system_session, org.rep_east, "East Secret Ltd", phone="13811112222", email="boss@secret.cn")
    response = post_customer(client_as(org.rep_west), csrf, name="East Secret", phone="138 1111 2222",
                             email="BOSS@secret.cn")
    assert response.status_code == 302  # saved at once: no warning, no hint that something exists
    assert "duplicate" not in response.get_data(as_text=True).lower()
    assert customer_names(system_session) == ["East Secret", "East Secret Ltd"]


def test_a_manager_is_warned_about_his_teams_records(org, client_as, csrf, system_session):
    existing = make_customer(system_session, org.rep_east_sub, "Sub Firm", email="sales@subfirm.com")
    html = post_customer(client_as(org.manager_east), csrf, name="Other name",
                         email="Sales@SubFirm.com").get_data(as_text=True)
    assert f'data-duplicate-id="{existing.id}"' in html and "same e-mail" in html


def test_contact_warning_by_mobile_anywhere_and_by_name_within_the_customer(org, client_as, csrf, system_session):
    firm = make_customer(system_session, org.rep_east, "Firm")
    other = make_customer(system_session, org.rep_east, "Other firm")
    known = make_contact(system_session, org.rep_east, firm, "王伟", mobile="13700000003")
    client = client_as(org.rep_east)

    def post(**fields):
        return client.post("/r/contact/new", data={"csrf_token": csrf(client), **fields})

    by_mobile = post(customer_id=other.id, name="Someone", phone="+86 137 0000 0003")
    assert by_mobile.status_code == 200 and f'data-duplicate-id="{known.id}"' in by_mobile.get_data(as_text=True)
    by_name = post(customer_id=firm.id, name=" 王 伟 ")
    assert by_name.status_code == 200 and f'data-duplicate-id="{known.id}"' in by_name.get_data(as_text=True)
    # the same common name at another customer is another person
    assert post(customer_id=other.id, name="王伟").status_code == 302


# ---------------------------------------------------------------- finder

def finder_groups(html):
    """{(reason, ids)} of the finder page."""
    return {(reason, tuple(int(i) for i in ids.split(",")))
            for reason, ids in re.findall(r'data-reason="(\w+)" data-ids="([\d,]+)"', html)}


def test_finder_lists_groups_with_their_reason_within_the_edit_scope(org, client_as, system_session):
    a = make_customer(system_session, org.rep_east, "Alpha Trading Co., Ltd", phone="13500000001")
    b = make_customer(system_session, org.rep_east, "ALPHA TRADING", email="a@alpha.cn")
    c = make_customer(system_session, org.rep_east_sub, "Gamma", phone="135-0000-0001", email="A@alpha.cn")
    west = make_customer(system_session, org.rep_west, "Alpha Trading Ltd")
    deleted = make_customer(system_session, org.rep_east, "Alpha trading")
    deleted.deleted_at = deleted.created_at
    system_session.commit()

    rep = finder_groups(client_as(org.rep_east).get("/dedupe/customer/").get_data(as_text=True))
    assert rep == {("name_key", (a.id, b.id))}  # not the sub-team's, the other branch's or the deleted one

    manager = finder_groups(client_as(org.manager_east).get("/dedupe/customer/").get_data(as_text=True))
    assert manager == {("name_key", (a.id, b.id)), ("phone_key", (a.id, c.id)), ("email_key", (b.id, c.id))}

    boss_html = client_as(org.boss).get("/dedupe/customer/").get_data(as_text=True)
    assert ("name_key", (a.id, b.id, west.id)) in finder_groups(boss_html)
    assert "Same phone" in boss_html and "Same e-mail" in boss_html


def test_finder_groups_contact_names_per_customer(org, client_as, system_session):
    firm = make_customer(system_session, org.rep_east, "Firm")
    other = make_customer(system_session, org.rep_east, "Other")
    one = make_contact(system_session, org.rep_east, firm, "李娜")
    two = make_contact(system_session, org.rep_east, firm, "李 娜")
    make_contact(system_session, org.rep_east, other, "李娜")
    html = client_as(org.rep_east).get("/dedupe/contact/").get_data(as_text=True)
    assert finder_groups(html) == {("name_key", (one.id, two.id))}


def test_finder_needs_edit_rights_and_a_mergeable_entity(org, client_as, system_session):
    assert client_as(org.service).get("/dedupe/customer/").status_code == 403  # views all, edits none
    assert client_as(org.boss).get("/dedupe/product/").status_code == 404
    assert client_as(org.boss).get("/dedupe/nothing/").status_code == 404
    html = client_as(org.rep_east).get("/r/customer/").get_data(as_text=True)
    assert 'id="find-duplicates"' in html
    assert 'id="find-duplicates"' not in client_as(org.service).get("/r/customer/").get_data(as_text=True)


def test_finder_groups_in_a_bounded_number_of_queries(org, client_as, system_session, count_queries):
    for i in range(30):
        make_customer(system_session, org.rep_east, f"Firm {i % 10}", phone=f"1350000{i % 10:04d}")
    client = client_as(org.rep_east)
    client.get("/dedupe/customer/")
    with count_queries() as counter:
        html = client.get("/dedupe/customer/").get_data(as_text=True)
    assert len(finder_groups(html)) == 20  # 10 names + 10 phones, three records each
    assert counter.count <= 20


# ---------------------------------------------------------------- migration

def test_the_migration_fills_the_keys_of_existing_rows(tmp_path):
    import datetime as dt
    import os

    from alembic import command
    from sqlalchemy import JSON, column, table

    from core.app import create_app
    from core.migrate import alembic_config
    from core.testing import create_test_database

    url, drop = create_test_database(os.environ.get("GUANXI_TEST_DATABASE_URL"), tmp_path)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "QUEUE": "memory"})
    engine = app.extensions["guanxi"].engine
    try:
        now = dt.datetime(2024, 1, 1)
        with engine.begin() as conn:
            command.upgrade(alembic_config("core", conn), "ce9ff85cf651")  # before the keys existed
            old_customer = table("customer", column("name"), column("phone"), column("email"), column("kind"),
                                 column("status"), column("custom", JSON()), column("version"), column("created_at"),
                                 column("updated_at"))
            conn.execute(old_customer.insert().values(
                name="深圳市腾飞科技有限公司", phone="+86 (755) 8600-1234", email="HR@TengFei.cn", kind="company",
                status="potential", custom={}, version=1, created_at=now, updated_at=now))
        with engine.begin() as conn:
            command.upgrade(alembic_config("core", conn), "0002_dedupe_views")
            keys = conn.execute(select(table("customer", column("name_key"), column("phone_key"),
                                             column("email_key")))).one()
        assert tuple(keys) == ("深圳市腾飞科技", "8675586001234", "hr@tengfei.cn")
    finally:
        engine.dispose()
        drop()
