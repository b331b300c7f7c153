"""Follow-ups attached to plugin records (related_entity/related_id) and the "My to-dos" dashboard widget.

The panel and the checks are generic (any entity whose spec says ``follow_ups=True``); the projects module is
the plugin entity used here.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from core.models import AuditEntry, Customer, FollowUp, User
from plugins.projects.models import Project, ProjectCustomer


def make_customer(session, owner, name):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(record)
    session.commit()
    return record


def make_project(session, owner, name, number, customer=None):
    project = Project(name=name, number=number, owner_id=owner.id, department_id=owner.department_id)
    session.add(project)
    session.flush()
    if customer is not None:
        session.add(ProjectCustomer(project_id=project.id, customer_id=customer.id))
    session.commit()
    return project


def make_followup(session, owner, content, next_date, happened=None, **fields):
    record = FollowUp(content=content, owner_id=owner.id, department_id=owner.department_id,
                      next_follow_up=next_date,
                      happened_at=happened or dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), **fields)
    session.add(record)
    session.commit()
    return record


def local_today(app):
    """Today in the instance's time zone, as the widget sees it (not the test machine's date)."""
    from zoneinfo import ZoneInfo
    return dt.datetime.now(ZoneInfo(app.config.get("TIMEZONE") or "UTC")).date()


def followups(session):
    session.rollback()
    session.expire_all()
    return session.execute(select(FollowUp).order_by(FollowUp.id)).scalars().all()


def test_the_follow_up_form_is_prefilled_from_a_project_and_the_follow_up_shows_on_it(
        org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east, "East Buyer")
    project = make_project(system_session, org.rep_east, "Metro line 5", "PRJ-T-1", customer)
    other = make_project(system_session, org.rep_east, "Other project", "PRJ-T-2")
    client = client_as(org.rep_east)

    page = client.get(f"/r/project/{project.id}").get_data(as_text=True)
    add = re.search(r'id="followup-add" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert f"related_entity=project&related_id={project.id}&customer_id={customer.id}" in add
    form = client.get(add).get_data(as_text=True)
    assert 'name="related_entity" value="project"' in form and f'name="related_id" value="{project.id}"' in form
    assert "Concerns: Project: Metro line 5" in form

    response = client.post("/r/followup/new", data={
        "csrf_token": csrf(client, add), "related_entity": "project", "related_id": project.id,
        "customer_id": customer.id, "kind": "visit", "content": "现场勘查 Site survey",
        "happened_at": "2026-01-05T10:00", "next": f"/r/project/{project.id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/project/{project.id}")
    saved = followups(system_session)[-1]
    assert (saved.related_entity, saved.related_id, saved.customer_id) == ("project", project.id, customer.id)

    page = client.get(f"/r/project/{project.id}").get_data(as_text=True)
    panel = page[page.index('id="followups"'):]
    assert "现场勘查 Site survey" in panel
    assert "现场勘查 Site survey" not in client.get(f"/r/project/{other.id}").get_data(as_text=True)
    detail = client.get(f"/r/followup/{saved.id}").get_data(as_text=True)
    assert f'href="/r/project/{project.id}">Metro line 5<' in detail  # the "Concerns" panel
    # the customer's page lists it too (it is filed under the customer)
    assert "现场勘查 Site survey" in client.get(f"/r/customer/{customer.id}").get_data(as_text=True)


def test_quick_add_on_a_project_page_attaches_the_follow_up(org, client_as, csrf, system_session):
    project = make_project(system_session, org.rep_east, "Quick", "PRJ-T-3")
    client = client_as(org.rep_east)
    page = client.get(f"/r/project/{project.id}").get_data(as_text=True)
    quick = page[page.index('id="followup-quick-add"'):page.index("</form>", page.index('id="followup-quick-add"'))]
    assert 'name="related_entity" value="project"' in quick
    data = {name: value for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', quick)}
    data.update(content="Quick note", kind="call")
    assert client.post("/r/followup/new", data=data).status_code == 302
    assert (followups(system_session)[-1].related_entity, followups(system_session)[-1].related_id) == \
        ("project", project.id)


def test_a_follow_up_cannot_be_attached_to_a_record_out_of_scope(org, client_as, api_as, csrf, system_session):
    east = make_project(system_session, org.rep_east, "East secret project", "PRJ-T-4")
    client = client_as(org.rep_west)
    token = csrf(client, "/r/followup/new")
    response = client.post("/r/followup/new", data={"csrf_token": token, "related_entity": "project",
                                                    "related_id": east.id, "content": "sneaky"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not found." in html[html.index('id="f-related_id-errors"'):][:200]
    assert "sneaky" in html and "East secret project" not in html  # what was typed is kept; no title leaks
    prefilled = client.get(f"/r/followup/new?related_entity=project&related_id={east.id}").get_data(as_text=True)
    assert "East secret project" not in prefilled

    api = api_as(org.rep_west)
    refused = api.post("/api/v1/followup", json={"content": "api sneaky", "related_entity": "project",
                                                 "related_id": east.id})
    assert refused.status_code == 422 and "related_id" in refused.get_json()["fields"]
    for entity in ("customer", "nonsense"):  # not an entity that takes follow-ups
        refused = api.post("/api/v1/followup", json={"content": "x", "related_entity": entity, "related_id": 1})
        assert refused.status_code == 422 and "related_entity" in refused.get_json()["fields"]
    half = api.post("/api/v1/followup", json={"content": "x", "related_entity": "project"})
    assert half.status_code == 422 and "related_id" in half.get_json()["fields"]
    # moving an existing follow-up onto someone else's record is refused as well
    mine = api.post("/api/v1/followup", json={"content": "my own"}).get_json()
    moved = api.patch(f"/api/v1/followup/{mine['id']}", json={"related_entity": "project", "related_id": east.id})
    assert moved.status_code == 422
    assert all(f.related_id is None for f in followups(system_session))
    # the owner of the project may attach to it
    ok = api_as(org.rep_east).post("/api/v1/followup", json={"content": "fine", "related_entity": "project",
                                                              "related_id": east.id})
    assert ok.status_code == 201


def test_todos_show_own_due_and_overdue_follow_ups_with_what_they_concern(app, org, client_as, system_session):
    today = local_today(app)
    customer = make_customer(system_session, org.rep_east, "Todo Customer")
    project = make_project(system_session, org.rep_east, "Todo Project", "PRJ-T-5", customer)
    overdue = make_followup(system_session, org.rep_east, "Send the revised drawings", today - dt.timedelta(days=2),
                            customer_id=customer.id, related_entity="project", related_id=project.id)
    due = make_followup(system_session, org.rep_east, "Call the buyer", today, customer_id=customer.id)
    make_followup(system_session, org.rep_east, "Later anyway", today + dt.timedelta(days=5))
    make_followup(system_session, org.rep_east_sub, "Colleague's task", today)  # visible to managers, not "mine"
    html = client_as(org.rep_east).get("/").get_data(as_text=True)
    widget = html[html.index('id="widget-followups_due"'):]
    assert "My to-dos" in widget
    assert re.search(r'data-count="overdue">1<', widget) and re.search(r'data-count="due-today">1<', widget)
    assert "Send the revised drawings" in widget and "Call the buyer" in widget
    assert "Later anyway" not in widget and "Colleague's task" not in widget
    item = widget[widget.index(f'data-todo="{overdue.id}"'):widget.index(f'data-todo="{due.id}"')]
    assert "list-group-item-danger" in item  # overdue is highlighted
    assert f'href="/r/project/{project.id}" data-concerns>Todo Project<' in item
    log = re.search(r'data-action="log-follow-up" href="([^"]+)"', item).group(1).replace("&amp;", "&")
    assert f"related_entity=project&related_id={project.id}&customer_id={customer.id}" in log
    due_item = widget[widget.index(f'data-todo="{due.id}"'):]
    assert f'href="/r/customer/{customer.id}" data-concerns>Todo Customer<' in due_item
    manager = client_as(org.manager_east).get("/").get_data(as_text=True)
    assert "Colleague's task" not in manager and "Call the buyer" not in manager  # own to-dos only


def test_a_later_follow_up_on_the_project_clears_its_todo(org, client_as, system_session):
    project = make_project(system_session, org.rep_east, "Superseded", "PRJ-T-6")
    make_followup(system_session, org.rep_east, "Promise on project", dt.date.today() - dt.timedelta(days=1),
                  related_entity="project", related_id=project.id)
    client = client_as(org.rep_east)
    assert "Promise on project" in client.get("/").get_data(as_text=True)
    make_followup(system_session, org.rep_east, "Kept the promise", None,
                  happened=dt.datetime(2020, 2, 1, tzinfo=dt.timezone.utc),
                  related_entity="project", related_id=project.id)
    assert "Promise on project" not in client.get("/").get_data(as_text=True)


def test_done_clears_the_next_date_audited_and_only_for_own_records(app, org, client_as, csrf, system_session):
    task = make_followup(system_session, org.rep_east, "Finish me", local_today(app))
    other = client_as(org.rep_west)
    assert other.post(f"/followups/{task.id}/done", data={"csrf_token": csrf(other, "/")}).status_code == 404
    client = client_as(org.rep_east)
    assert client.post(f"/followups/{task.id}/done", data={}).status_code == 400  # CSRF required
    response = client.post(f"/followups/{task.id}/done", data={"csrf_token": csrf(client, "/"), "next": "/"})
    assert response.status_code == 302
    assert followups(system_session)[0].next_follow_up is None
    audit = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "followup",
                                                            AuditEntry.record_id == task.id)).scalars().all()
    assert [a.changes for a in audit if a.action == "update"] == [{"next_follow_up": [local_today(app).isoformat(),
                                                                                        None]}]
    assert "Finish me" not in client.get("/").get_data(as_text=True)


def test_todos_in_chinese(org, client_as, system_session):
    make_followup(system_session, org.rep_east, "逾期的任务", dt.date.today() - dt.timedelta(days=1))
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    html = client_as(org.rep_east).get("/").get_data(as_text=True)
    assert "我的待办" in html and "已逾期" in html and "今日待跟进" in html and "逾期的任务" in html
    assert "记录跟进" in html and "完成" in html


def test_project_page_queries_do_not_grow_with_follow_ups(org, client_as, system_session, count_queries):
    project = make_project(system_session, org.rep_east, "Counted", "PRJ-T-7")
    client = client_as(org.rep_east)
    make_followup(system_session, org.rep_east, "one", None, related_entity="project", related_id=project.id)
    client.get(f"/r/project/{project.id}")
    with count_queries() as few:
        client.get(f"/r/project/{project.id}")
    for i in range(5):
        make_followup(system_session, org.rep_east, f"more {i}", None, related_entity="project", related_id=project.id)
    with count_queries() as more:
        assert client.get(f"/r/project/{project.id}").status_code == 200
    assert more.count == few.count


def test_every_entity_that_takes_follow_ups_shows_them_on_its_page(gx, org, client_as, system_session):
    """Generic: leads, opportunities, projects... whatever module declares ``follow_ups=True``."""
    from core.testing.factories import make_record
    specs = [spec for spec in gx.entities if spec.follow_ups]
    assert "project" in {spec.name for spec in specs}
    client = client_as(org.boss)
    for spec in specs:
        record, _mark = make_record(system_session, spec, org.rep_east, gx.entities)
        system_session.commit()
        make_followup(system_session, org.rep_east, f"About {spec.name} {record.id}", None,
                      related_entity=spec.name, related_id=record.id)
        html = client.get(f"/r/{spec.name}/{record.id}").get_data(as_text=True)
        panel = html[html.index('id="followups"'):]
        assert f"About {spec.name} {record.id}" in panel, spec.name
        assert f"related_entity={spec.name}&amp;related_id={record.id}" in panel, spec.name
        # the other rep sees neither the record nor its follow-ups
        assert client_as(org.rep_west).get(f"/r/{spec.name}/{record.id}").status_code == 404


def test_a_file_cannot_link_follow_ups_to_records(gx, org):
    """Imports skip the entity's save rules, so the link fields (checked by the form and the API) are not
    mapping targets."""
    from core.imports.service import importable_fields_for
    from core.scope import build_user_scope, set_scope
    from core.models import User
    from sqlalchemy import select

    session = gx.session_factory()
    with gx.system_session("test: user") as lookup:
        user = lookup.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
        scope = build_user_scope(lookup, user, gx.entities, gx.hook)
    set_scope(session, scope)
    try:
        targets = importable_fields_for(session, gx.entities["followup"])
    finally:
        session.close()
    assert "content" in targets
    assert not {"related_entity", "related_id"} & set(targets)
