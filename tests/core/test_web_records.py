"""The generic record pages (list, detail, forms, delete/restore, transfer) driven by the EntitySpec registry."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Contact, Customer, FollowUp, Product, User


def make_customer(session, owner, name="Customer", **fields):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, **fields)
    session.add(record)
    session.commit()
    return record


def field_errors(html, name) -> str:
    """Text of the error block under field ``name``."""
    match = re.search(rf'id="f-{name}-errors"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error block for {name}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def reload(session, model, record_id):
    session.rollback()  # nothing pending: a fresh snapshot (MariaDB repeatable read)
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id)
                           .execution_options(include_deleted=True)).unique().scalar_one()


# ---------------------------------------------------------------- list

def test_list_shows_names_labels_and_only_the_users_records(org, client_as, system_session):
    make_customer(system_session, org.rep_east, "East Alpha 阿尔法", status="intention")
    make_customer(system_session, org.rep_west, "West Beta")
    html = client_as(org.rep_east).get("/r/customer/").get_data(as_text=True)
    assert "East Alpha 阿尔法" in html and "West Beta" not in html
    assert "Zhang San" in html  # owner name, not id
    assert "Intention" in html  # choice label, not the stored value
    assert 'data-column="owner_id"' in html


def test_manager_sees_his_subtree_not_the_other_branch(org, client_as, system_session):
    make_customer(system_session, org.rep_east, "Own East")
    make_customer(system_session, org.rep_east_sub, "Sub East")
    make_customer(system_session, org.rep_west, "West Only")
    html = client_as(org.manager_east).get("/r/customer/").get_data(as_text=True)
    assert "Own East" in html and "Sub East" in html and "West Only" not in html


def test_search_filter_sort_and_keyset_pages(org, client_as, system_session):
    for i in range(5):
        make_customer(system_session, org.rep_east, f"Firm {i}", status="closed" if i % 2 else "potential")
    client = client_as(org.rep_east)
    html = client.get("/r/customer/?f_status=closed").get_data(as_text=True)
    assert "Firm 1" in html and "Firm 3" in html and "Firm 0" not in html
    html = client.get("/r/customer/?q=firm 4").get_data(as_text=True)
    assert "Firm 4" in html and "Firm 3" not in html

    first = client.get("/r/customer/?sort=name&limit=2").get_data(as_text=True)
    assert first.index("Firm 0") < first.index("Firm 1") and "Firm 2" not in first
    assert "First page" not in first
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert "Firm 2" in second and "Firm 3" in second and "Firm 0" not in second
    assert 'rel="first"' in second
    assert "Records: 5" in second


def test_bad_list_arguments_are_ignored_or_refused_cleanly(org, client_as, system_session):
    make_customer(system_session, org.rep_east, "Solid")
    client = client_as(org.rep_east)
    for url in ("/r/customer/?f_owner_id=abc", "/r/customer/?sort=password_hash", "/r/customer/?limit=99999",
                "/r/customer/?f_status=' OR 1=1 --", "/r/customer/?q=%25_%5C"):
        assert client.get(url).status_code == 200, url
    assert client.get("/r/customer/?cursor=not-a-cursor").status_code == 400
    assert client.get("/r/nothing/").status_code == 404
    huge = "99999999999999999999"  # past 2**63: must never reach the database driver
    assert client.get(f"/r/customer/{huge}").status_code == 404
    assert client.get(f"/r/customer/?f_owner_id={huge}").status_code == 200
    assert client.get(f"/r/contact/new?customer_id={huge}").status_code == 200


def test_huge_ids_in_forms_are_field_errors(org, client_as, csrf):
    client = client_as(org.rep_east)
    huge = "99999999999999999999"
    response = client.post("/r/contact/new", data={"csrf_token": csrf(client), "name": "Big", "customer_id": huge})
    assert response.status_code == 422
    assert "Not found." in field_errors(response.get_data(as_text=True), "customer_id")


def test_page_size_is_capped(app, org, client_as, system_session, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_PAGE_SIZE", 3)
    for i in range(5):
        make_customer(system_session, org.rep_east, f"Cap {i}")
    html = client_as(org.rep_east).get("/r/customer/?limit=500").get_data(as_text=True)
    assert html.count('name="ids"') == 3


def test_count_is_capped_not_unbounded(app, org, client_as, system_session, monkeypatch):
    monkeypatch.setitem(app.extensions["guanxi"].settings, "COUNT_CAP", 3)
    for i in range(5):
        make_customer(system_session, org.rep_east, f"Many {i}")
    assert "Records: 3+" in client_as(org.rep_east).get("/r/customer/").get_data(as_text=True)


def test_list_query_count_does_not_grow_with_rows(org, client_as, system_session, count_queries):
    client = client_as(org.rep_east)
    for i in range(5):
        make_customer(system_session, org.rep_east, f"Few {i}", tags=[])
    client.get("/r/customer/")  # warm-up: first-request work is not what we measure
    with count_queries() as few:
        assert client.get("/r/customer/").status_code == 200
    for i in range(45):
        make_customer(system_session, org.rep_east, f"More {i}")
    with count_queries() as many:
        html = client.get("/r/customer/").get_data(as_text=True)
    assert html.count('name="ids"') == 50
    assert many.count == few.count, many.statements


def test_contact_list_shows_customer_titles_without_n_plus_one(org, client_as, system_session, count_queries):
    client = client_as(org.rep_east)

    def add_contacts(n):
        for i in range(n):
            customer = make_customer(system_session, org.rep_east, f"Parent {i}")
            system_session.add(Contact(name=f"Person {i}", customer_id=customer.id, owner_id=org.rep_east.id,
                                       department_id=org.rep_east.department_id))
        system_session.commit()

    add_contacts(3)
    client.get("/r/contact/")
    with count_queries() as few:
        client.get("/r/contact/")
    add_contacts(20)
    with count_queries() as many:
        html = client.get("/r/contact/").get_data(as_text=True)
    assert "Parent 19" in html and 'href="/r/customer/' in html
    assert many.count == few.count


# ---------------------------------------------------------------- detail

def test_detail_of_another_reps_record_is_404_everywhere(org, client_as, csrf, system_session):
    east = make_customer(system_session, org.rep_east, "Secret East")
    west = client_as(org.rep_west)
    token = csrf(west)
    assert west.get(f"/r/customer/{east.id}").status_code == 404
    assert west.get(f"/r/customer/{east.id}/edit").status_code == 404
    assert west.get("/r/customer/999999").status_code == 404
    assert west.post(f"/r/customer/{east.id}/edit", data={"csrf_token": token, "name": "Hijack"}).status_code == 404
    assert west.post(f"/r/customer/{east.id}/delete", data={"csrf_token": token}).status_code == 404
    assert reload(system_session, Customer, east.id).name == "Secret East"
    assert reload(system_session, Customer, east.id).deleted_at is None


def test_customer_detail_shows_fields_panels_and_history(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east, "Panel Co", status="closed")
    system_session.add(Contact(name="Wang Contact", customer_id=customer.id, owner_id=org.rep_east.id,
                               department_id=org.rep_east.department_id, is_primary=True))
    system_session.add(FollowUp(content="Visited the plant", customer_id=customer.id, owner_id=org.rep_east.id,
                                department_id=org.rep_east.department_id))
    system_session.add(AuditEntry(entity="customer", record_id=customer.id, action="update",
                                  user_id=org.rep_east.id, changes={"status": ["potential", "closed"]}))
    system_session.commit()
    html = client_as(org.rep_east).get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert "Closed deal" in html and "Zhang San" in html
    assert "Wang Contact" in html and "Visited the plant" in html
    assert f"/r/contact/new?customer_id={customer.id}" in html
    assert 'id="followup-quick-add"' in html and 'id="attachments"' in html
    audit = html[html.index('id="audit-trail"'):]
    assert "Potential" in audit and "Closed deal" in audit and "Zhang San" in audit


def test_reference_fields_link_to_the_referenced_record(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east, "Linked Co")
    contact = Contact(name="Link Person", customer_id=customer.id, owner_id=org.rep_east.id,
                      department_id=org.rep_east.department_id)
    system_session.add(contact)
    system_session.commit()
    html = client_as(org.rep_east).get(f"/r/contact/{contact.id}").get_data(as_text=True)
    assert f'<a href="/r/customer/{customer.id}">Linked Co</a>' in html


# ---------------------------------------------------------------- forms

def test_create_edit_round_trip(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    token = csrf(client)
    assert client.get("/r/customer/new").status_code == 200
    created = client.post("/r/customer/new", data={
        "csrf_token": token, "name": "Round Trip 往返", "status": "intention", "kind": "company", "level": "",
        "tags": "VIP, 老客户,VIP", "email": "", "website": ""})
    assert created.status_code == 302, created.get_data(as_text=True)
    record_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    record = reload(system_session, Customer, record_id)
    assert record.owner_id == org.rep_east.id and record.level is None
    assert sorted(t.name for t in record.tags) == ["VIP", "老客户"]

    form = client.get(f"/r/customer/{record_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    assert 'value="VIP, 老客户"' in form or 'value="老客户, VIP"' in form
    edited = client.post(f"/r/customer/{record_id}/edit", data={
        "csrf_token": token, "version": version, "name": "Round Trip 2", "status": "closed", "kind": "company",
        "tags": ""})
    assert edited.status_code == 302
    record = reload(system_session, Customer, record_id)
    assert record.name == "Round Trip 2" and record.status == "closed" and record.tags == []
    assert client.get(f"/r/customer/{record_id}").get_data(as_text=True).count("Round Trip 2") >= 1


def test_form_errors_appear_at_the_field_and_keep_input(org, client_as, csrf):
    client = client_as(org.rep_east)
    response = client.post("/r/customer/new", data={
        "csrf_token": csrf(client), "name": "", "email": "not-an-email", "city": "Hangzhou 杭州"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in field_errors(html, "name")
    assert "Not a valid e-mail address." in field_errors(html, "email")
    assert 'value="Hangzhou 杭州"' in html and 'value="not-an-email"' in html


def test_form_errors_for_a_chinese_user(app, org, client_as, csrf, system_session):
    from flask_babel import force_locale, gettext
    with app.test_request_context(), force_locale("zh_CN"):
        expected = gettext("Not a valid URL.")
    assert expected != "Not a valid URL."  # the zh_CN catalogue translates it
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    client = client_as(org.rep_east)
    response = client.post("/r/customer/new", data={"csrf_token": csrf(client), "name": "Ok",
                                                     "website": "javascript:alert(1)"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'lang="zh-CN"' in html and 'value="javascript:alert(1)"' in html
    assert expected in field_errors(html, "website")


def test_owner_outside_scope_is_refused_at_the_field(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    response = client.post("/r/customer/new", data={"csrf_token": csrf(client), "name": "Forged",
                                                     "owner_id": str(org.rep_west.id)})
    assert response.status_code == 422
    assert "may not assign" in field_errors(response.get_data(as_text=True), "owner_id")
    assert system_session.execute(select(Customer).where(Customer.name == "Forged")).first() is None


def test_stale_edit_is_refused_and_nothing_overwritten(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east, "Original")
    client = client_as(org.rep_east)
    token = csrf(client)
    form = client.get(f"/r/customer/{customer.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    fresh = reload(system_session, Customer, customer.id)
    fresh.name = "Changed by someone else"
    system_session.commit()
    response = client.post(f"/r/customer/{customer.id}/edit", data={
        "csrf_token": token, "version": version, "name": "My late change", "status": "potential",
        "kind": "company"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this record" in html and 'value="My late change"' in html
    assert reload(system_session, Customer, customer.id).name == "Changed by someone else"


def test_new_form_is_prefilled_from_the_url(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east, "Prefill Co")
    html = client_as(org.rep_east).get(f"/r/contact/new?customer_id={customer.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{customer.id}" selected>Prefill Co</option>', html)


def test_quick_follow_up_from_the_customer_page(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east, "Quick Co")
    client = client_as(org.rep_east)
    response = client.post("/r/followup/new", data={
        "csrf_token": csrf(client), "customer_id": str(customer.id), "kind": "visit", "content": "Met the boss",
        "next_follow_up": "2030-01-02", "next": f"/r/customer/{customer.id}#followups"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/r/customer/{customer.id}#followups")
    row = system_session.execute(select(FollowUp).where(FollowUp.customer_id == customer.id)).scalar_one()
    assert row.kind == "visit" and row.next_follow_up == dt.date(2030, 1, 2) and row.happened_at is not None


def test_datetime_fields_are_local_time_in_forms(app, org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east, "Clock Co")
    client = client_as(org.rep_east)
    client.post("/r/followup/new", data={"csrf_token": csrf(client), "customer_id": str(customer.id),
                                         "content": "Timed", "happened_at": "2024-05-01T09:30"})
    row = system_session.execute(select(FollowUp).where(FollowUp.content == "Timed")).scalar_one()
    assert app.config["TIMEZONE"] == "Asia/Shanghai"
    assert row.happened_at == dt.datetime(2024, 5, 1, 1, 30, tzinfo=dt.timezone.utc)
    form = client.get(f"/r/followup/{row.id}/edit").get_data(as_text=True)
    assert 'value="2024-05-01T09:30"' in form


def test_clearing_a_required_time_keeps_the_stored_one(org, client_as, csrf, system_session):
    when = dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.timezone.utc)
    row = FollowUp(content="Keep time", owner_id=org.rep_east.id, department_id=org.rep_east.department_id,
                   happened_at=when)
    system_session.add(row)
    system_session.commit()
    client = client_as(org.rep_east)
    form = client.get(f"/r/followup/{row.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = client.post(f"/r/followup/{row.id}/edit", data={
        "csrf_token": csrf(client), "version": version, "content": "Kept", "kind": "call", "happened_at": ""})
    assert response.status_code == 302
    saved = reload(system_session, FollowUp, row.id)
    assert saved.content == "Kept" and saved.happened_at == when


def test_reference_to_an_invisible_record_is_refused(org, client_as, csrf, system_session):
    west = make_customer(system_session, org.rep_west, "West Parent")
    client = client_as(org.rep_east)
    response = client.post("/r/contact/new", data={"csrf_token": csrf(client), "customer_id": str(west.id),
                                                    "name": "Sneaky"})
    assert response.status_code == 422
    assert "Not found." in field_errors(response.get_data(as_text=True), "customer_id")


# ---------------------------------------------------------------- delete, restore, transfer

def test_delete_recycle_bin_and_restore(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east, "Binned Co")
    client = client_as(org.rep_east)
    token = csrf(client)
    assert client.post(f"/r/customer/{customer.id}/delete", data={"csrf_token": token}).status_code == 302
    assert reload(system_session, Customer, customer.id).deleted_at is not None
    assert client.get(f"/r/customer/{customer.id}").status_code == 404
    assert "Binned Co" not in client.get("/r/customer/").get_data(as_text=True)
    assert "Binned Co" in client.get("/recycle-bin").get_data(as_text=True)
    assert "Binned Co" not in client_as(org.rep_west).get("/recycle-bin").get_data(as_text=True)
    west = client_as(org.rep_west)
    assert west.post(f"/r/customer/{customer.id}/restore", data={"csrf_token": csrf(west)}).status_code == 404
    assert client.post(f"/r/customer/{customer.id}/restore", data={"csrf_token": token}).status_code == 302
    assert reload(system_session, Customer, customer.id).deleted_at is None
    assert client.get(f"/r/customer/{customer.id}").status_code == 200


def test_delete_needs_post(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east, "Get Co")
    assert client_as(org.rep_east).get(f"/r/customer/{customer.id}/delete").status_code == 405


def test_bulk_transfer_moves_records_and_their_contacts(org, client_as, csrf, system_session):
    a = make_customer(system_session, org.rep_east_sub, "Move A")
    b = make_customer(system_session, org.rep_east_sub, "Move B")
    system_session.add(Contact(name="Follows", customer_id=a.id, owner_id=org.rep_east_sub.id,
                               department_id=org.rep_east_sub.department_id))
    system_session.commit()
    manager = client_as(org.manager_east)
    response = manager.post("/r/customer/transfer", data={
        "csrf_token": csrf(manager), "ids": [str(a.id), str(b.id)], "owner_id": str(org.rep_east.id)})
    assert response.status_code == 302
    assert reload(system_session, Customer, a.id).owner_id == org.rep_east.id
    assert reload(system_session, Customer, b.id).owner_id == org.rep_east.id
    contact = system_session.execute(select(Contact).where(Contact.name == "Follows")).scalar_one()
    assert contact.owner_id == org.rep_east.id


def test_transfer_is_all_or_nothing_and_scoped(org, client_as, csrf, system_session):
    mine = make_customer(system_session, org.rep_east, "Mine")
    theirs = make_customer(system_session, org.rep_west, "Theirs")
    client = client_as(org.rep_east)
    token = csrf(client)
    response = client.post("/r/customer/transfer", data={"csrf_token": token, "ids": [str(mine.id), str(theirs.id)],
                                                         "owner_id": str(org.rep_east.id)})
    assert response.status_code == 404
    # a salesperson may only give records to himself (own scope): another owner is refused
    response = client.post("/r/customer/transfer", data={"csrf_token": token, "ids": [str(mine.id)],
                                                         "owner_id": str(org.rep_east_sub.id)})
    assert response.status_code == 302
    assert reload(system_session, Customer, mine.id).owner_id == org.rep_east.id
    assert reload(system_session, Customer, theirs.id).owner_id == org.rep_west.id


def test_transfer_owner_choices_are_assignable_users_only(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east_sub, "Choices Co")
    html = client_as(org.manager_east).get(f"/r/customer/{customer.id}").get_data(as_text=True)
    select_html = html[html.index('id="transfer-owner"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert "Li Si" in select_html and "Zhang San" in select_html
    assert "Wang Wu" not in select_html and "Sun Ba" not in select_html  # other branch; deactivated


# ---------------------------------------------------------------- procurement fields

@pytest.fixture
def product(system_session):
    record = Product(code="P-1", name="Pump 水泵", price=100, cost=61.5)
    system_session.add(record)
    system_session.commit()
    return record


def test_product_cost_hidden_from_sales_shown_to_procurement(org, client_as, product):
    sales = client_as(org.rep_east)
    listing = sales.get("/r/product/").get_data(as_text=True)
    assert "Pump 水泵" in listing and "Purchase cost" not in listing and "61.50" not in listing
    detail = sales.get(f"/r/product/{product.id}").get_data(as_text=True)
    assert "Purchase cost" not in detail and "61.50" not in detail
    probed = sales.get("/r/product/?sort=-cost&f_cost=1").get_data(as_text=True)
    assert "Pump 水泵" in probed and 'data-column="cost"' not in probed  # the cost filter was ignored

    buyer = client_as(org.procurement)
    assert "Purchase cost" in buyer.get("/r/product/").get_data(as_text=True)
    assert "61.50" in buyer.get(f"/r/product/{product.id}").get_data(as_text=True)
    assert 'name="cost"' in buyer.get(f"/r/product/{product.id}/edit").get_data(as_text=True)


def test_product_cost_absent_from_the_audit_trail_for_sales(org, client_as, csrf, product, system_session):
    buyer = client_as(org.procurement)
    form = buyer.get(f"/r/product/{product.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = buyer.post(f"/r/product/{product.id}/edit", data={
        "csrf_token": csrf(buyer), "version": version, "code": "P-1", "name": "Pump 水泵", "price": "120",
        "currency": "CNY", "cost": "77.25", "active": "on"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "77.25" in buyer.get(f"/r/product/{product.id}").get_data(as_text=True)
    boss_view = client_as(org.boss).get(f"/r/product/{product.id}").get_data(as_text=True)
    assert "77.25" in boss_view[boss_view.index('id="audit-trail"'):]
    sales_view = client_as(org.rep_east).get(f"/r/product/{product.id}").get_data(as_text=True)
    audit = sales_view[sales_view.index('id="audit-trail"'):]
    assert "120" in audit and "77.25" not in audit and "61.50" not in audit and "Purchase cost" not in audit


def test_product_editing_needs_the_permission(org, client_as, product):
    assert client_as(org.manager_east).get(f"/r/product/{product.id}/edit").status_code == 403
    assert client_as(org.boss).get(f"/r/product/{product.id}/edit").status_code == 200


def test_a_crafted_cost_field_is_ignored_for_who_may_not_see_it(org, client_as, csrf, product, system_session):
    from core.models import Role, RoleGrant
    role = system_session.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    role.grants.append(RoleGrant(permission="core.product.edit", level="all"))
    system_session.commit()
    client = client_as(org.rep_east)
    form = client.get(f"/r/product/{product.id}/edit").get_data(as_text=True)
    assert 'name="cost"' not in form
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = client.post(f"/r/product/{product.id}/edit", data={
        "csrf_token": csrf(client), "version": version, "code": "P-1", "name": "Pump 2", "price": "100",
        "currency": "CNY", "cost": "0.01", "active": "on"})
    assert response.status_code == 302
    saved = reload(system_session, Product, product.id)
    assert saved.name == "Pump 2" and str(saved.cost) == "61.50"
