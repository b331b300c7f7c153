"""Import rules: saved mappings, preview errors, duplicates, owners within scope, hidden fields, references."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.imports.models import ImportMapping
from core.models import Contact, Customer, Product, Role, RoleGrant
from core.testing.factories import make_record
from tests.core.import_helpers import (
    csv_bytes, full_import, job_id_of, load_job, map_columns, upload,
)


def _customer(session, name):
    session.commit()  # a fresh snapshot (MariaDB REPEATABLE READ)
    return session.execute(select(Customer).where(Customer.name == name)
                           .execution_options(populate_existing=True)).scalar_one_or_none()


def test_mapping_is_saved_and_reused(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    header = ["客户全称", "联系电话"]  # headers no label matches
    job_id = job_id_of(upload(client, csrf, "customer", csv_bytes([header, ["甲", "1"]])))
    response = map_columns(client, csrf, "customer", job_id, {0: "name", 1: "phone"}, save_as="我的模板")
    assert response.status_code == 302
    saved = system_session.execute(select(ImportMapping)).scalar_one()
    assert (saved.user_id, saved.name, saved.columns) == (org.rep_east.id, "我的模板",
                                                         {"客户全称": "name", "联系电话": "phone"})
    second = job_id_of(upload(client, csrf, "customer", csv_bytes([["联系电话", "客户全称"], ["2", "乙"]])))
    html = client.get(f"/import/customer/{second}/mapping?saved={saved.id}").get_data(as_text=True)
    selects = dict(re.findall(r'name="col_(\d)">(.*?)</select>', html, re.S))
    assert 'value="phone" selected' in selects["0"] and 'value="name" selected' in selects["1"]
    other = client_as(org.rep_west)
    third = job_id_of(upload(other, csrf, "customer", csv_bytes([["联系电话", "客户全称"], ["2", "乙"]])))
    html = other.get(f"/import/customer/{third}/mapping?saved={saved.id}").get_data(as_text=True)
    assert "我的模板" not in html and 'value="phone" selected' not in html  # another user's mapping: invisible


def test_preview_shows_errors_at_row_and_field(org, client_as, csrf):
    client = client_as(org.rep_east)
    rows = [["名称", "E-mail", "状态"], ["好", "ok@example.com", "potential"], ["坏邮箱", "not-an-email", "potential"],
            ["", "x@example.com", "potential"], ["坏状态", "", "nonsense"]]
    job_id = job_id_of(upload(client, csrf, "customer", csv_bytes(rows)))
    assert map_columns(client, csrf, "customer", job_id, {0: "name", 1: "email", 2: "status"}).status_code == 302
    html = client.get(f"/import/customer/{job_id}/preview").get_data(as_text=True)
    lines = dict(re.findall(r'<tr data-line="(\d+)" data-action="(\w+)"', html))
    assert lines == {"2": "create", "3": "fail", "4": "fail", "5": "fail"}
    row3 = html.split('data-line="3"')[1].split("</tr>")[0]
    assert re.search(r'data-field="email">not-an-email<div class="small">Not a valid e-mail', row3)
    row4 = html.split('data-line="4"')[1].split("</tr>")[0]
    assert 'data-field="name"><div class="small">' in row4
    row5 = html.split('data-line="5"')[1].split("</tr>")[0]
    assert re.search(r'data-field="status">nonsense<div class="small">Must be one of', row5)


def test_required_field_must_be_mapped(org, client_as, csrf):
    client = client_as(org.rep_east)
    job_id = job_id_of(upload(client, csrf, "customer", csv_bytes([["电话"], ["1"]])))
    response = map_columns(client, csrf, "customer", job_id, {0: "phone"})
    assert response.status_code == 422 and "Map a column to every required field: Name" in response.get_data(
        as_text=True)


def _existing(gx, system_session, owner, name, **values):
    record, _ = make_record(system_session, gx.entities["customer"], owner, gx.entities, mark=name)
    record.name = name
    for key, value in values.items():
        setattr(record, key, value)
    system_session.commit()
    return record


def test_duplicates_skip_update_create(gx, org, client_as, csrf, system_session):
    _existing(gx, system_session, org.rep_east, "老客户", email="old@example.com", city="上海")
    client = client_as(org.rep_east)
    rows = [["名称", "E-mail", "城市"], ["老客户新名", "OLD@example.com", "北京"], ["新客户", "new@example.com", "深圳"],
            ["新客户二", "new@example.com", "广州"]]
    data, mapping = csv_bytes(rows), {0: "name", 1: "email", 2: "city"}

    skip = load_job(system_session, full_import(client, csrf, "customer", data, mapping, match="email",
                                                duplicates="skip"))
    assert (skip.created, skip.skipped, skip.updated) == (1, 2, 0)  # the third repeats the second's e-mail
    assert _customer(system_session, "老客户").city == "上海"

    update = load_job(system_session, full_import(client, csrf, "customer", data, mapping, match="email",
                                                  duplicates="update"))
    # row 1 updates the old customer; row 2 matches the one created above with nothing new (skipped);
    # row 3 repeats row 2's e-mail (skipped)
    assert (update.created, update.updated, update.skipped) == (0, 1, 2)
    renamed = _customer(system_session, "老客户新名")
    assert renamed is not None and renamed.city == "北京" and renamed.version >= 2

    create = load_job(system_session, full_import(client, csrf, "customer", data, mapping, match="email",
                                                  duplicates="create"))
    assert create.created == 3


def test_update_needs_edit_permission_and_only_editable_records(gx, org, client_as, csrf, system_session):
    _existing(gx, system_session, org.rep_east, "东区客户", email="east@example.com")
    manager_west = client_as(org.manager_west)  # cannot see East's customer: it is not a duplicate for him
    job = load_job(system_session, full_import(
        manager_west, csrf, "customer", csv_bytes([["名称", "E-mail"], ["西区版本", "east@example.com"]]),
        {0: "name", 1: "email"}, match="email", duplicates="update"))
    assert (job.created, job.updated) == (1, 0)
    assert _customer(system_session, "东区客户") is not None


def test_owner_column_outside_scope_is_refused(org, client_as, csrf, system_session):
    client = client_as(org.manager_east)
    rows = [["名称", "负责人"], ["给东区", "rep_east_sub"], ["给西区", "rep_west"], ["给未知", "nobody"],
            ["给停用", "deactivated"]]
    job = load_job(system_session, full_import(client, csrf, "customer", csv_bytes(rows), {0: "name", 1: "owner_id"}))
    assert (job.created, job.failed) == (1, 3)
    mine = _customer(system_session, "给东区")
    assert mine.owner_id == org.rep_east_sub.id and mine.department_id == org.rep_east_sub.department_id
    assert _customer(system_session, "给西区") is None
    report = client.get(f"/import/customer/{job.id}/errors.csv").get_data(as_text=True)
    assert "You may not assign records to this user." in report and "Unknown or inactive user." in report


def test_chosen_owner_outside_scope_is_refused(org, client_as, csrf):
    client = client_as(org.rep_east)
    job_id = job_id_of(upload(client, csrf, "customer", csv_bytes([["名称"], ["x"]])))
    response = map_columns(client, csrf, "customer", job_id, {0: "name"}, owner_id=org.rep_west.id)
    assert response.status_code == 422
    assert "You may not assign records to this user." in response.get_data(as_text=True)


def test_hidden_field_is_not_offered_and_refused_when_forced(org, client_as, csrf, system_session):
    with_role = system_session.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    role = Role(key="catalogue", name="Catalogue editor")
    role.grants = [RoleGrant(permission=p, level="all") for p in ("core.product.view", "core.product.create")]
    system_session.add(role)
    user = system_session.merge(org.rep_west)
    user.roles = [with_role, role]
    system_session.commit()
    client = client_as(org.rep_west)
    rows = [["编码", "名称", "采购成本"], ["P1", "产品一", "12.50"]]
    job_id = job_id_of(upload(client, csrf, "product", csv_bytes(rows)))
    html = client.get(f"/import/product/{job_id}/mapping").get_data(as_text=True)
    assert 'value="cost"' not in html and 'value="code"' in html
    forced = map_columns(client, csrf, "product", job_id, {0: "code", 1: "name", 2: "cost"})
    assert forced.status_code == 422 and "Unknown field." in forced.get_data(as_text=True)
    assert map_columns(client, csrf, "product", job_id, {0: "code", 1: "name"}).status_code == 302
    client.post(f"/import/product/{job_id}/run", data={"csrf_token": csrf(client, f"/import/product/{job_id}/preview")})
    system_session.commit()
    product = system_session.execute(select(Product).where(Product.code == "P1")).scalar_one()
    assert product.cost is None and load_job(system_session, job_id).created == 1


def test_contacts_reference_only_visible_customers(gx, org, client_as, csrf, system_session):
    _existing(gx, system_session, org.rep_east, "我的客户")
    other, _ = make_record(system_session, gx.entities["customer"], org.rep_west, gx.entities, mark="别人的客户")
    other.name = "别人的客户"
    system_session.commit()
    client = client_as(org.rep_east)
    rows = [["客户", "姓名"], ["我的客户", "张一"], ["别人的客户", "李二"], [str(other.id), "王三"]]
    job = load_job(system_session, full_import(client, csrf, "contact", csv_bytes(rows),
                                               {0: "customer_id", 1: "name"}))
    assert (job.created, job.failed) == (1, 2)
    contact = system_session.execute(select(Contact).where(Contact.name == "张一")).scalar_one()
    assert contact.customer.name == "我的客户" and contact.owner_id == org.rep_east.id


def test_without_create_permission_import_is_forbidden(org, client_as):
    service = client_as(org.service)  # may view customers, not create them
    assert service.get("/import/customer/").status_code == 403
    assert client_as(org.rep_east).get("/import/product/").status_code == 403
