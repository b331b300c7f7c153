"""Core i18n defects fixed with the import work: import counts and plurals read right in Chinese, level names on
the explain page, the breadcrumb's aria-label, and the organisation service's refusal."""
from __future__ import annotations

from sqlalchemy import select

from core.models import Customer, User
from tests.core.import_helpers import csv_bytes, full_import, job_id_of, upload


def _chinese(session, *users):
    for user in users:
        session.execute(select(User).where(User.id == user.id)).scalar_one().language = "zh_CN"
    session.commit()


def test_import_pages_in_chinese_name_counts_not_timestamps(org, client_as, csrf, system_session):
    _chinese(system_session, org.rep_east)
    client = client_as(org.rep_east)
    job_id = full_import(client, csrf, "customer", csv_bytes([["名称"], ["甲"], ["乙"]]), {0: "name"})
    html = client.get(f"/import/customer/{job_id}").get_data(as_text=True)
    for label in ("新建记录", "更新记录", "跳过的行", "失败的行"):
        assert label in html
    assert "创建时间" not in html  # "Created" of a record's timestamp, the old ambiguity


def test_row_counts_use_plural_forms(org, client_as, csrf):
    client = client_as(org.rep_east)
    one = job_id_of(upload(client, csrf, "customer", csv_bytes([["名称"], ["甲"]])))
    two = job_id_of(upload(client, csrf, "customer", csv_bytes([["名称"], ["甲"], ["乙"]])))
    assert "1 data row<" in client.get(f"/import/customer/{one}/mapping").get_data(as_text=True)
    assert "2 data rows<" in client.get(f"/import/customer/{two}/mapping").get_data(as_text=True)


def test_explain_page_names_levels_in_the_users_language(org, client_as, system_session):
    customer = Customer(name="解释用客户", owner_id=org.rep_east.id, department_id=org.rep_east.department_id)
    system_session.add(customer)
    system_session.commit()
    _chinese(system_session, org.admin)
    html = client_as(org.admin).get(
        f"/admin/explain?user={org.manager_east.id}&entity=customer&record={customer.id}").get_data(as_text=True)
    assert "团队（本部门及下级部门）" in html
    assert "<strong>team</strong>" not in html and ": team<" not in html


def test_breadcrumb_label_is_translated(org, client_as, system_session):
    customer = Customer(name="面包屑客户", owner_id=org.rep_east.id, department_id=org.rep_east.department_id)
    system_session.add(customer)
    system_session.commit()
    _chinese(system_session, org.rep_east)
    html = client_as(org.rep_east).get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert 'aria-label="当前位置"' in html and 'aria-label="breadcrumb"' not in html


def test_refusal_to_manage_a_wider_user_is_translatable(app, gx, org):
    from flask_babel import force_locale

    from core.orgservice.common import require_manageable
    from core.scope import build_user_scope, set_scope
    from core.services import Forbidden

    session = gx.new_session()
    try:
        manager = session.execute(select(User).where(User.id == org.manager_east.id)).scalar_one()
        boss = session.execute(select(User).where(User.id == org.admin.id)).scalar_one()
        set_scope(session, build_user_scope(session, manager, gx.entities, gx.hook))
        with app.test_request_context("/"):
            try:
                require_manageable(session, boss)
            except Forbidden as exc:
                with force_locale("zh_CN"):
                    assert str(exc) == "该用户的角色权限超出您的权限，您不能管理该用户。"
                with force_locale("en"):
                    assert str(exc) == "This user holds roles wider than yours: you may not manage him."
            else:
                raise AssertionError("a manager may not manage the administrator")
    finally:
        session.close()
