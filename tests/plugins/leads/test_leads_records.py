"""Leads through the generic pages and API, read-only once converted, import, zh_CN, dashboard."""
from __future__ import annotations

from sqlalchemy import inspect, select

from core import migrate
from core.models import AuditEntry, User
from plugins.leads.models import Lead
from tests.core.import_helpers import csv_bytes, full_import, load_job
from tests.plugins.leads.leads_helpers import leads_of, make_lead


def test_module_is_loaded_and_migrated(app, gx):
    assert gx.modules["leads"].loaded
    for table in ("leads_lead", "leads_web_form", "leads_round_robin", "leads_web_form_attempt"):
        assert inspect(gx.engine).has_table(table)
    assert migrate.current(gx)["leads"] == "leads_0001"
    spec = gx.entities["lead"]
    assert spec.follow_ups and spec.custom_fields and spec.importable
    assert set(spec.search_fields) >= {"name", "company", "phone", "email"}


def test_create_through_the_generic_form_and_scope(gx, org, client_as, api_as, csrf):
    rep = client_as(org.rep_east)
    token = csrf(rep, "/r/lead/new")
    created = rep.post("/r/lead/new", data={
        "csrf_token": token, "name": "诸葛亮 Zhuge Liang", "company": "卧龙科技 Wolong Tech", "mobile": "13800138000",
        "email": "kongming@example.com", "source": "referral", "status": "contacted", "rating": "hot"})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    (lead,) = leads_of(gx)
    assert (lead.owner_id, lead.department_id, lead.source, lead.status) == (
        org.rep_east.id, org.rep_east.department_id, "referral", "contacted")

    listing = rep.get("/r/lead/").get_data(as_text=True)
    assert "诸葛亮 Zhuge Liang" in listing and "卧龙科技" in listing
    detail = rep.get(f"/r/lead/{lead.id}").get_data(as_text=True)
    assert "Convert" in detail and f"/leads/{lead.id}/convert" in detail and f"/leads/{lead.id}/assign" in detail
    # another team's salesperson: nothing, exactly like a missing id
    west = client_as(org.rep_west)
    assert west.get(f"/r/lead/{lead.id}").status_code == 404
    assert "诸葛亮" not in west.get("/r/lead/").get_data(as_text=True)
    assert api_as(org.rep_west).get(f"/api/v1/lead/{lead.id}").status_code == 404
    # the manager of the team sees it
    body = api_as(org.manager_east).get("/api/v1/lead").get_json()
    assert [item["name"] for item in body["items"]] == ["诸葛亮 Zhuge Liang"]


def test_bad_input_is_refused_at_the_field(org, client_as, csrf, gx):
    rep = client_as(org.rep_east)
    token = csrf(rep, "/r/lead/new")
    response = rep.post("/r/lead/new", data={"csrf_token": token, "name": "", "email": "not-an-email",
                                             "status": "converted"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-name-errors"' in html and "This field is required." in html
    assert "Not a valid e-mail address." in html
    assert leads_of(gx) == []


def test_api_create_and_status_converted_is_not_settable(org, api_as, gx):
    api = api_as(org.rep_east)
    created = api.post("/api/v1/lead", json={"name": "Cao Cao 曹操", "company": "Wei Ltd", "source": "website"})
    assert created.status_code == 201, created.get_json()
    lead_id = created.get_json()["id"]
    refused = api.patch(f"/api/v1/lead/{lead_id}", json={"status": "converted"})
    assert refused.status_code == 422 and "status" in refused.get_json()["fields"]


def test_a_converted_lead_is_read_only(org, api_as, gx, system_session):
    from core.db import utcnow
    lead_id = make_lead(gx, org.rep_east, status="converted", converted_at=utcnow())
    response = api_as(org.rep_east).patch(f"/api/v1/lead/{lead_id}", json={"name": "changed"})
    assert response.status_code == 422, response.get_json()
    assert "converted" in str(response.get_json()["fields"])
    from tests.plugins.leads.leads_helpers import load_lead
    assert load_lead(gx, lead_id).name == "刘备 Liu Bei"


def test_list_and_detail_use_a_bounded_number_of_queries(org, client_as, gx, count_queries):
    for i in range(3):
        make_lead(gx, org.rep_east, name=f"Lead {i}")
    lead_id = make_lead(gx, org.rep_east, name="Lead last")
    rep = client_as(org.rep_east)
    rep.get("/r/lead/")  # warm caches (custom field definitions, menu)
    with count_queries() as few:
        rep.get("/r/lead/")
    for i in range(20):
        make_lead(gx, org.rep_east, name=f"More {i}")
    with count_queries() as many:
        assert rep.get("/r/lead/").status_code == 200
    assert many.count == few.count  # no query per row
    with count_queries() as detail:
        assert rep.get(f"/r/lead/{lead_id}").status_code == 200
    assert detail.count <= 25, detail.statements  # 12 measured


def test_import_through_the_core_import_flow(org, client_as, csrf, gx, system_session):
    manager = client_as(org.manager_east)
    data = csv_bytes([["姓名", "公司", "手机", "邮箱"],
                      ["孙权 Sun Quan", "东吴贸易 Wu Trading", "13900000001", "sunquan@example.com"],
                      ["周瑜 Zhou Yu", "", "13900000002", ""]])
    job_id = full_import(manager, csrf, "lead", data, {0: "name", 1: "company", 2: "mobile", 3: "email"},
                         filename="leads.csv")
    job = load_job(system_session, job_id)
    assert job.status == "done", job.status
    leads = leads_of(gx)
    assert sorted(lead.name for lead in leads) == ["周瑜 Zhou Yu", "孙权 Sun Quan"]
    assert all(lead.owner_id == org.manager_east.id and lead.status == "new" for lead in leads)
    assert client_as(org.rep_west).get(f"/r/lead/{leads[0].id}").status_code == 404


def test_pages_render_in_simplified_chinese(org, client_as, gx, system_session):
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    lead_id = make_lead(gx, org.rep_east, status="qualified", source="exhibition")
    rep = client_as(org.rep_east)
    listing = rep.get("/r/lead/").get_data(as_text=True)
    assert "潜在客户" in listing and "已确认" in listing and "展会" in listing
    detail = rep.get(f"/r/lead/{lead_id}").get_data(as_text=True)
    assert "转化" in detail and "分配" in detail
    convert = rep.get(f"/leads/{lead_id}/convert").get_data(as_text=True)
    assert "转化潜在客户" in convert and "新建客户" in convert


def test_dashboard_counts_new_leads_by_source(org, client_as, gx):
    make_lead(gx, org.rep_east, source="website")
    make_lead(gx, org.rep_east, source="website")
    make_lead(gx, org.rep_west, source="referral")
    html = client_as(org.rep_east).get("/").get_data(as_text=True)
    assert 'id="leads-new-this-week"' in html
    table = html.split('id="leads-new-this-week"', 1)[1].split("</table>", 1)[0]
    assert "Website" in table and "Referral" not in table  # rep_west's lead is not his to count
    assert '<td class="text-end">2</td>' in table


def test_assignments_and_conversions_are_audited(org, api_as, gx, system_session):
    lead_id = make_lead(gx, org.rep_east)
    from plugins.leads import services
    from core.scope import build_user_scope, set_scope
    session = gx.new_session()
    set_scope(session, build_user_scope(session, org.manager_east, gx.entities, gx.hook))
    services.assign(session, gx.entities, [lead_id], org.rep_east_sub.id)
    session.close()
    entry = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "lead",
                                                            AuditEntry.action == "assign")).scalar_one()
    assert entry.changes == {"owner_id": [org.rep_east.id, org.rep_east_sub.id]}
    assert entry.user_id == org.manager_east.id
    assert system_session.execute(select(Lead.owner_id).where(Lead.id == lead_id)).scalar_one() == org.rep_east_sub.id
