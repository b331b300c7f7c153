"""Projects (项目型销售): create, number, stages and timeline, links within scope, overview, panels."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.models import AuditEntry, Contact, Customer
from plugins.projects.models import Project, ProjectContact, ProjectCustomer, StageHistory


def make_customer(session, owner, name):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def make_contact(session, customer, owner, name):
    record = Contact(name=name, customer_id=customer.id, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def create_project(client, csrf, name="深圳地铁 Metro upgrade", **fields):
    token = csrf(client, "/r/project/new")
    response = client.post("/r/project/new", data={"csrf_token": token, "name": name, "importance": "high",
                                                    "type": "integration", "kickoff_date": "2026-03-01",
                                                    **fields})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/r/project/(\d+)", response.headers["Location"]).group(1))


def stages(session):
    """The configured stages in order (seeded first when the wiped test database has none)."""
    from plugins.projects.services import all_stages, ensure_default_stages
    ensure_default_stages(session)
    rows = all_stages(session)
    session.commit()
    return rows


def reload(session, model, record_id):
    session.rollback()
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id)).unique().scalar_one()


def test_a_new_project_is_numbered_and_starts_in_the_first_stage(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    first = create_project(client, csrf)
    second = create_project(client, csrf, name="Second")
    a, b = reload(system_session, Project, first), reload(system_session, Project, second)
    assert re.fullmatch(r"PRJ-\d{4}-0001", a.number) and b.number == a.number[:-4] + "0002"
    assert a.stage.key == "initiation" and a.owner_id == org.rep_east.id
    history = system_session.execute(select(StageHistory).where(StageHistory.project_id == first)).scalars().all()
    assert [(h.from_stage_id, h.to_stage_id) for h in history] == [(None, a.stage_id)]
    html = client.get(f"/r/project/{first}").get_data(as_text=True)
    assert a.number in html and "项目立项" not in html and "Initiation" in html


def test_a_number_typed_by_hand_must_be_unique(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    create_project(client, csrf, number="PRJ-X-1")
    # another rep cannot see that project, and still may not reuse its number
    other = client_as(org.rep_west)
    token = csrf(other, "/r/project/new")
    response = other.post("/r/project/new", data={"csrf_token": token, "name": "Dup", "number": "PRJ-X-1"})
    assert response.status_code == 422
    assert "already used" in response.get_data(as_text=True)
    assert system_session.execute(select(Project).where(Project.name == "Dup")).first() is None


def test_generated_numbers_skip_numbers_taken_by_hand(org, client_as, csrf, system_session):
    import datetime as dt
    client = client_as(org.rep_east)
    year = dt.date.today().year
    create_project(client, csrf, number=f"PRJ-{year}-0001")
    generated = create_project(client, csrf, name="Auto")
    assert reload(system_session, Project, generated).number == f"PRJ-{year}-0002"


def test_project_through_the_api(org, api_as, system_session):
    api = api_as(org.rep_east)
    response = api.post("/api/v1/project", json={"name": "API project", "importance": "key", "type": "tender"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("PRJ-") and body["stage_id"] is not None
    bad = api.post("/api/v1/project", json={"name": "Bad", "importance": "huge"})
    assert bad.status_code in (400, 422) and "importance" in bad.get_json()["fields"]
    assert api_as(org.rep_west).get(f"/api/v1/project/{body['id']}").status_code == 404
    inactive = stages(system_session)[-1]
    inactive.active = False
    system_session.commit()
    refused = api.patch(f"/api/v1/project/{body['id']}", json={"stage_id": inactive.id})
    assert refused.status_code == 422 and "stage_id" in refused.get_json()["fields"]


def test_salesperson_runs_a_project_from_initiation_to_contract(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    project_id = create_project(client, csrf)
    all_stages = stages(system_session)
    for stage in all_stages[1:5]:  # 项目跟踪 → 技术确认 → 商务确认 → 合同签订
        token = csrf(client, f"/r/project/{project_id}")
        response = client.post(f"/projects/{project_id}/stage", data={
            "csrf_token": token, "stage_id": stage.id, "note": f"moved to {stage.key}"})
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/project/{project_id}#stage")
    project = reload(system_session, Project, project_id)
    assert project.stage.key == "contract"
    history = system_session.execute(select(StageHistory).where(StageHistory.project_id == project_id)
                                     .order_by(StageHistory.id)).scalars().all()
    assert [h.to_stage_id for h in history] == [s.id for s in all_stages[:5]]
    assert history[-1].note == "moved to contract" and history[-1].changed_by_id == org.rep_east.id
    audit = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "project",
                                                            AuditEntry.record_id == project_id,
                                                            AuditEntry.action == "update")).scalars().all()
    assert [a.changes["stage_id"] for a in audit][-1] == [all_stages[3].id, all_stages[4].id]
    html = client.get(f"/r/project/{project_id}").get_data(as_text=True)
    timeline = html[html.index('id="stage-timeline"'):]
    assert "Commercial confirmation → <strong>Contract signed</strong>" in timeline
    assert "moved to contract" in timeline
    assert re.search(r'data-current-stage>Contract signed<', html)


def test_stage_change_errors_appear_at_the_field_and_keep_the_note(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    project_id = create_project(client, csrf)
    token = csrf(client, f"/r/project/{project_id}")
    response = client.post(f"/projects/{project_id}/stage", data={"csrf_token": token, "stage_id": "",
                                                                  "note": "typed note"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "typed note" in html
    assert "This field is required." in html[html.index('id="stage-next-errors"'):][:300]
    # another rep cannot change it at all: 404 like a missing project
    other = client_as(org.rep_west)
    response = other.post(f"/projects/{project_id}/stage", data={
        "csrf_token": csrf(other, "/"), "stage_id": stages(system_session)[1].id})
    assert response.status_code == 404
    assert reload(system_session, Project, project_id).stage.key == "initiation"


def test_links_are_limited_to_what_the_user_can_see(org, client_as, csrf, system_session):
    mine = make_customer(system_session, org.rep_east, "华为 Mine Co")
    theirs = make_customer(system_session, org.rep_west, "West Secret Co")
    my_contact = make_contact(system_session, mine, org.rep_east, "刘工 Engineer Liu")
    other_contact = make_contact(system_session, theirs, org.rep_west, "West Person")
    client = client_as(org.rep_east)
    project_id = create_project(client, csrf)
    token = csrf(client, f"/r/project/{project_id}")

    # a contact whose customer is not linked yet is refused at the field
    response = client.post(f"/projects/{project_id}/contacts", data={"csrf_token": token,
                                                                     "contact_id": my_contact.id})
    assert response.status_code == 422 and "Link the contact" in response.get_data(as_text=True)
    # a customer out of scope is "not found", never linked
    response = client.post(f"/projects/{project_id}/customers", data={"csrf_token": token,
                                                                      "customer_id": theirs.id})
    assert response.status_code == 422 and "Not found." in response.get_data(as_text=True)
    assert "West Secret Co" not in response.get_data(as_text=True)

    assert client.post(f"/projects/{project_id}/customers", data={
        "csrf_token": token, "customer_id": mine.id, "role": "业主 Owner"}).status_code == 302
    assert client.post(f"/projects/{project_id}/contacts", data={
        "csrf_token": token, "contact_id": my_contact.id, "role": "技术负责人"}).status_code == 302
    response = client.post(f"/projects/{project_id}/contacts", data={"csrf_token": token,
                                                                     "contact_id": other_contact.id})
    assert response.status_code == 422
    links = system_session.execute(select(ProjectCustomer.customer_id)).scalars().all()
    assert links == [mine.id]
    assert system_session.execute(select(ProjectContact.contact_id)).scalars().all() == [my_contact.id]

    html = client.get(f"/r/project/{project_id}").get_data(as_text=True)
    assert "华为 Mine Co" in html and "刘工 Engineer Liu" in html and "业主 Owner" in html
    # the customer's page shows the project
    customer_page = client.get(f"/r/customer/{mine.id}").get_data(as_text=True)
    assert 'id="customer-projects"' in customer_page and "深圳地铁 Metro upgrade" in customer_page

    # removing the customer takes its contacts out too
    token = csrf(client, f"/r/project/{project_id}")
    assert client.post(f"/projects/{project_id}/customers/{mine.id}/remove",
                       data={"csrf_token": token}).status_code == 302
    system_session.rollback()  # a fresh snapshot (MariaDB repeatable read)
    system_session.expire_all()
    assert system_session.execute(select(ProjectCustomer)).first() is None
    assert system_session.execute(select(ProjectContact)).first() is None


def test_a_viewer_sees_only_the_linked_customers_in_his_scope(org, client_as, csrf, system_session):
    east = make_customer(system_session, org.rep_east, "East Visible")
    boss = client_as(org.boss)
    west = make_customer(system_session, org.rep_west, "West Hidden")
    project_id = create_project(boss, csrf, owner_id=org.rep_east.id)
    token = csrf(boss, f"/r/project/{project_id}")
    for customer in (east, west):
        assert boss.post(f"/projects/{project_id}/customers", data={
            "csrf_token": token, "customer_id": customer.id}).status_code == 302
    html = client_as(org.rep_east).get(f"/r/project/{project_id}").get_data(as_text=True)
    assert "East Visible" in html and "West Hidden" not in html
    assert client_as(org.rep_west).get(f"/r/project/{project_id}").status_code == 404


def test_overview_lists_columns_and_quick_actions_with_bounded_queries(org, client_as, csrf, system_session,
                                                                       count_queries):
    customer = make_customer(system_session, org.rep_east, "Overview Co")
    client = client_as(org.rep_east)
    ids = [create_project(client, csrf, name=f"Project {i}") for i in range(3)]
    token = csrf(client, "/projects/")
    client.post(f"/projects/{ids[0]}/customers", data={"csrf_token": token, "customer_id": customer.id})
    create_project(client_as(org.rep_west), csrf, name="West project")
    client.get("/projects/")
    with count_queries() as few:
        client.get("/projects/?limit=2")
    with count_queries() as more:
        html = client.get("/projects/").get_data(as_text=True)
    assert more.count == few.count  # no query per row
    assert "West project" not in html
    for column in ("Project number", "Project name", "Importance", "Stage", "Project type", "Kickoff date", "Owner"):
        assert column in html
    assert "Project 0" in html and "High" in html and "System integration" in html and "Initiation" in html
    assert "2026-03-01" in html and "Zhang San" in html
    assert (f"/r/followup/new?related_entity=project&amp;related_id={ids[0]}&amp;customer_id={customer.id}"
            in html)
    assert f"/r/project/{ids[1]}/edit" in html
    page = client.get("/projects/?limit=2").get_data(as_text=True)
    next_url = re.search(r'id="next-page" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    rest = client.get(next_url).get_data(as_text=True)
    assert "Project 0" in rest and "Project 2" not in rest
    stage = stages(system_session)[1]
    assert "Project 1" not in client.get(f"/projects/?stage={stage.id}").get_data(as_text=True)


def test_chinese_user_sees_stage_names_and_labels_in_chinese(org, client_as, csrf, system_session):
    from core.models import User
    client = client_as(org.rep_east)
    project_id = create_project(client, csrf)
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    html = client.get("/projects/").get_data(as_text=True)
    assert "项目编号" in html and "项目立项" in html and "重要" in html and "系统集成" in html
    detail = client.get(f"/r/project/{project_id}").get_data(as_text=True)
    assert "变更阶段" in detail and "阶段记录" in detail and "关联客户" in detail


def test_stage_admin_renames_reorders_and_deactivates(org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    assert client_as(org.rep_east).get("/projects/stages").status_code == 403
    first, second = stages(system_session)[:2]
    token = csrf(admin, "/projects/stages")
    assert admin.post(f"/projects/stages/{second.id}", data={
        "csrf_token": token, "name_zh": "需求跟踪", "name_en": "Needs tracking"}).status_code == 302
    assert admin.post(f"/projects/stages/{second.id}/move", data={"csrf_token": token,
                                                                   "direction": "up"}).status_code == 302
    response = admin.post(f"/projects/stages/{first.id}", data={"csrf_token": token, "name_zh": "",
                                                                "name_en": "X", "active": "on"})
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    assert admin.post("/projects/stages/new", data={"csrf_token": token, "name_zh": "验收",
                                                    "name_en": "Acceptance"}).status_code == 302
    system_session.rollback()
    system_session.expire_all()
    ordered = stages(system_session)
    assert ordered[0].id == second.id and ordered[0].name_en == "Needs tracking" and not ordered[0].active
    assert ordered[-1].name_en == "Acceptance" and ordered[-1].active
    # a deactivated stage is not offered any more
    client = client_as(org.rep_east)
    project_id = create_project(client, csrf)
    html = client.get(f"/r/project/{project_id}").get_data(as_text=True)
    form = html[html.index('id="stage-change"'):html.index("</form>", html.index('id="stage-change"'))]
    assert "Needs tracking" not in form and "Acceptance" in form
    assert reload(system_session, Project, project_id).stage_id == first.id  # first ACTIVE stage


def test_merging_customers_relinks_projects_without_duplicates(org, gx, client_as, csrf, system_session):
    from core.dedupe import merge as merge_service
    survivor = make_customer(system_session, org.rep_east, "Survivor Co")
    duplicate = make_customer(system_session, org.rep_east, "Survivor Co.")
    client = client_as(org.rep_east)
    both, only_dup = create_project(client, csrf, name="Both"), create_project(client, csrf, name="Dup only")
    token = csrf(client, "/projects/")
    for project_id, customer in ((both, survivor), (both, duplicate), (only_dup, duplicate)):
        client.post(f"/projects/{project_id}/customers", data={"csrf_token": token, "customer_id": customer.id,
                                                               "role": "x"})
    spec = gx.entities["customer"]
    merge_service.merge(system_session, spec, survivor.id, [duplicate.id], {}, gx.hook)
    system_session.rollback()
    system_session.expire_all()
    links = system_session.execute(select(ProjectCustomer.project_id, ProjectCustomer.customer_id)
                                   .order_by(ProjectCustomer.project_id)).all()
    assert sorted(links) == sorted([(both, survivor.id), (only_dup, survivor.id)])


def test_concurrent_creations_get_distinct_numbers(app, gx, org, system_session):
    """Several requests create projects at the same moment: every number is handed out once."""
    import threading

    from core import services as core_services
    from core.models import User
    from core.scope import build_user_scope, system_scope
    stages(system_session)  # seeded before the race (as the migration does)
    spec = gx.entities["project"]
    errors, barrier = [], threading.Barrier(4)

    def create(index):
        with app.app_context():
            session = gx.session_factory()
            try:
                with system_scope(session, "test: load user"):
                    user = session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
                    scope = build_user_scope(session, user, gx.entities, gx.hook)
                session.info["scope"] = scope
                barrier.wait()
                for n in range(3):
                    core_services.create(session, spec, {"name": f"Race {index}-{n}"}, gx.entities)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))
            finally:
                session.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    system_session.rollback()
    system_session.expire_all()
    numbers = system_session.execute(select(Project.number)).scalars().all()
    assert len(numbers) == 12 and len(set(numbers)) == 12
    assert sorted(int(n[-4:]) for n in numbers) == list(range(1, 13))
