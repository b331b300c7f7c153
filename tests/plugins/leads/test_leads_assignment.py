"""Assignment by hand and round-robin within a team (department subtree)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from core.models import AuditEntry
from core.scope import build_user_scope, set_scope
from plugins.leads import round_robin
from plugins.leads.models import RoundRobinPointer
from tests.plugins.leads.leads_helpers import leads_of, load_lead, make_lead, make_web_form


def test_eligible_users_are_the_active_lead_owners_of_the_subtree(org, system_session):
    east = round_robin.eligible_users(system_session, org.departments["east"].id)
    assert [u.login for u in east] == ["manager_east", "rep_east", "rep_east_sub"]  # not "deactivated"
    east1 = round_robin.eligible_users(system_session, org.departments["east1"].id)
    assert [u.login for u in east1] == ["rep_east_sub"]
    assert round_robin.eligible_users(system_session, org.departments["purchasing"].id) == []


def test_round_robin_is_fair_and_stays_in_the_team(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["east"].id)
    visitor = app.test_client()
    for i in range(9):
        response = visitor.post(f"/leads/w/{form.token}", data={"name": f"访客 {i}"},
                                environ_base={"REMOTE_ADDR": f"203.0.113.{i + 1}"})
        assert response.status_code == 200
    owners = [lead.owner_id for lead in leads_of(gx)]
    east = [org.manager_east.id, org.rep_east.id, org.rep_east_sub.id]
    assert Counter(owners) == {user_id: 3 for user_id in east}
    assert owners[:3] == east and owners[3:6] == east  # strict turns, in a stable order
    with gx.system_session("test") as session:
        pointer = session.execute(select(RoundRobinPointer)).scalar_one()
        assert (pointer.department_id, pointer.last_user_id) == (org.departments["east"].id, org.rep_east_sub.id)


def test_the_pointer_survives_a_changed_team(org, gx, system_session):
    east = org.departments["east"].id
    picks = [round_robin.next_user(system_session, east).login for _ in range(2)]
    system_session.commit()
    assert picks == ["manager_east", "rep_east"]
    org_user = system_session.execute(select(type(org.rep_east_sub)).where(
        type(org.rep_east_sub).id == org.rep_east_sub.id)).scalar_one()
    org_user.active = False  # rep_east_sub leaves: the turn goes back to the start
    system_session.commit()
    assert round_robin.next_user(system_session, east).login == "manager_east"


def test_a_manager_assigns_by_hand_within_his_team_only(org, client_as, csrf, gx, system_session):
    lead_id = make_lead(gx, org.rep_east)
    manager = client_as(org.manager_east)
    page = manager.get(f"/leads/{lead_id}/assign").get_data(as_text=True)
    assert "李四 Li Si" in page and "王五 Wang Wu" not in page  # only his team is offered
    token = csrf(manager, f"/leads/{lead_id}/assign")
    outside = manager.post(f"/leads/{lead_id}/assign", data={"csrf_token": token, "owner_id": org.rep_west.id})
    assert outside.status_code == 422 and "You may not assign records to this user." in outside.get_data(as_text=True)
    assert load_lead(gx, lead_id).owner_id == org.rep_east.id
    done = manager.post(f"/leads/{lead_id}/assign", data={"csrf_token": token, "owner_id": org.rep_east_sub.id})
    assert done.status_code == 302
    lead = load_lead(gx, lead_id)
    assert (lead.owner_id, lead.department_id) == (org.rep_east_sub.id, org.departments["east1"].id)
    entry = system_session.execute(select(AuditEntry).where(AuditEntry.action == "assign")).scalar_one()
    assert (entry.entity, entry.record_id, entry.user_id) == ("lead", lead_id, org.manager_east.id)


def test_a_salesperson_cannot_assign_anothers_lead_nor_to_a_colleague(org, client_as, csrf, gx):
    mine, theirs = make_lead(gx, org.rep_east), make_lead(gx, org.rep_east_sub)
    rep = client_as(org.rep_east)
    assert rep.get(f"/leads/{theirs}/assign").status_code == 404
    token = csrf(rep, f"/leads/{mine}/assign")
    assert rep.post(f"/leads/{theirs}/assign", data={"csrf_token": token, "owner_id": org.rep_east.id}
                    ).status_code == 404
    refused = rep.post(f"/leads/{mine}/assign", data={"csrf_token": token, "owner_id": org.rep_east_sub.id})
    assert refused.status_code == 422
    bulk = rep.post("/leads/assign", data={"csrf_token": token, "ids": [mine, theirs], "owner_id": org.rep_east.id})
    assert bulk.status_code == 404
    assert load_lead(gx, mine).owner_id == org.rep_east.id and load_lead(gx, theirs).owner_id == org.rep_east_sub.id
    # users without the permission at all are refused outright
    assert client_as(org.procurement).get(f"/leads/{mine}/assign").status_code == 403


def test_bulk_round_robin_by_a_manager(org, client_as, csrf, gx):
    ids = [make_lead(gx, org.manager_east, name=f"批量 {i}") for i in range(4)]
    manager = client_as(org.manager_east)
    token = csrf(manager, "/r/lead/")
    assert "/leads/assign/round-robin" in manager.get("/r/lead/").get_data(as_text=True)
    response = manager.post("/leads/assign/round-robin", data={"csrf_token": token, "ids": ids, "next": "/r/lead/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/r/lead/")
    owners = [load_lead(gx, i).owner_id for i in ids]
    assert owners == [org.manager_east.id, org.rep_east.id, org.rep_east_sub.id, org.manager_east.id]


def test_bulk_assign_by_hand_is_all_or_nothing(org, client_as, csrf, gx):
    east, west = make_lead(gx, org.rep_east), make_lead(gx, org.rep_west)
    manager = client_as(org.manager_east)
    token = csrf(manager, "/r/lead/")
    response = manager.post("/leads/assign", data={"csrf_token": token, "ids": [east, west],
                                                   "owner_id": org.rep_east_sub.id})
    assert response.status_code == 404  # west's lead is not his: nothing moves
    assert load_lead(gx, east).owner_id == org.rep_east.id
    ok = manager.post("/leads/assign", data={"csrf_token": token, "ids": [east], "owner_id": org.rep_east_sub.id})
    assert ok.status_code == 302 and load_lead(gx, east).owner_id == org.rep_east_sub.id


def test_round_robin_service_refuses_owners_outside_the_assigners_scope(org, gx):
    lead_id = make_lead(gx, org.rep_east)
    from marshmallow import ValidationError
    import pytest
    from plugins.leads import services
    session = gx.new_session()
    set_scope(session, build_user_scope(session, org.rep_east, gx.entities, gx.hook))
    with pytest.raises(ValidationError):  # the first turn in East is the manager's, not his to give to
        services.assign_round_robin(session, gx.entities, [lead_id])
    session.rollback()
    session.close()
    assert load_lead(gx, lead_id).owner_id == org.rep_east.id


def test_two_simultaneous_picks_never_give_the_same_turn(org, gx):
    """A holds the department's turn (uncommitted) while B asks for the next one: B waits for A's commit and
    takes the following turn (row lock on PostgreSQL/MariaDB), or fails on the pointer's version (SQLite) —
    never the same user twice."""
    import threading
    import time

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    east = org.departments["east"].id
    with gx.system_session("test: first pick") as setup:
        round_robin.next_user(setup, east)  # the pointer row exists from now on
        setup.commit()
    outcome = {}

    def second_pick():
        with gx.system_session("test: B") as session:
            try:
                outcome["b"] = round_robin.next_user(session, east).id
                session.commit()
            except (StaleDataError, OperationalError) as exc:
                session.rollback()
                outcome["b_error"] = type(exc).__name__

    with gx.system_session("test: A") as first:
        a_pick = round_robin.next_user(first, east).id
        other = threading.Thread(target=second_pick)
        other.start()
        time.sleep(0.5)
        first.commit()
    other.join(30)
    assert not other.is_alive()
    assert outcome.get("b") != a_pick
    if "b" in outcome:
        assert outcome["b"] == org.rep_east_sub.id  # the turn after A's (rep_east)
    assert a_pick == org.rep_east.id
