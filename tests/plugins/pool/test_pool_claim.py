"""Claim and release through the pages: visibility, capacity, audit, concurrency."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from core.models import Contact
from plugins.pool import services


def html(response):
    return response.get_data(as_text=True)


def test_release_then_claim_is_audited_and_moves_the_customer(org, client_as, csrf, make_pool, make_customer,
                                                               read, gx):
    east_pool = make_pool("华东公海", org.departments["east"])
    customer = make_customer("Released Co", org.rep_east)
    with gx.system_session("test: a contact") as session:
        session.add(Contact(customer_id=customer, name="Ms Contact", owner_id=org.rep_east.id,
                            department_id=org.rep_east.department_id))
        session.commit()
    owner = client_as(org.rep_east)

    detail = html(owner.get(f"/r/customer/{customer}"))
    assert "Release to pool" in detail and f"/pool/release?ids={customer}" in detail
    choose = html(owner.get(f"/pool/release?ids={customer}"))
    assert "Released Co" in choose and "华东公海" in choose
    done = owner.post("/pool/release", data={"csrf_token": csrf(owner), "ids": [str(customer)],
                                              "pool_id": str(east_pool)})

    assert done.status_code == 302
    assert read.customer(customer).owner_id is None
    membership = read.membership(customer)
    assert (membership.reason, membership.previous_owner_id) == ("released", org.rep_east.id)
    assert read.audit(customer)[-1][:2] == ("pool_release", org.rep_east.id)
    assert owner.get(f"/r/customer/{customer}").status_code == 404  # core scope: no longer his

    claimer = client_as(org.rep_east_sub)  # East-1 is under East: the East pool serves him
    listing = html(claimer.get(f"/pool/{east_pool}"))
    assert "Released Co" in listing and "张三 Zhang San" in listing and "secret note" not in listing
    claimed = claimer.post(f"/pool/claim/{customer}", data={"csrf_token": csrf(claimer)})

    assert claimed.status_code == 302 and claimed.headers["Location"].endswith(f"/r/customer/{customer}")
    now = read.customer(customer)
    assert (now.owner_id, now.department_id) == (org.rep_east_sub.id, org.rep_east_sub.department_id)
    assert read.membership(customer) is None
    assert read.audit(customer)[-1][:2] == ("pool_claim", org.rep_east_sub.id)
    assert claimer.get(f"/r/customer/{customer}").status_code == 200
    with gx.system_session("test: contact followed") as session:
        contact = session.execute(select(Contact).where(Contact.customer_id == customer)).scalar_one()
        assert contact.owner_id == org.rep_east_sub.id
    assert "Released Co" not in html(claimer.get(f"/pool/{east_pool}"))


def test_bulk_release_from_the_customer_list(org, client_as, csrf, make_pool, make_customer, read):
    pool = make_pool("Company pool")
    first, second = make_customer("Bulk A", org.rep_west), make_customer("Bulk B", org.rep_west)
    rep = client_as(org.rep_west)
    assert "Release to pool" in html(rep.get("/r/customer/"))

    # the list's bulk form posts the ticked ids (and its own fields) to the action's url
    chooser = rep.post("/pool/release", data={"csrf_token": csrf(rep), "ids": [str(first), str(second)],
                                              "owner_id": "", "next": "/r/customer/"})
    assert chooser.status_code == 200 and "Bulk A" in html(chooser) and "Bulk B" in html(chooser)
    assert read.customer(first).owner_id == org.rep_west.id  # nothing happens before a pool is chosen

    rep.post("/pool/release", data={"csrf_token": csrf(rep), "ids": [str(first), str(second)],
                                    "pool_id": str(pool)})
    assert read.membership(first).pool_id == pool and read.membership(second).pool_id == pool


def test_release_needs_a_visible_pool_and_an_editable_customer(org, client_as, csrf, make_pool, make_customer,
                                                              read):
    west_pool = make_pool("West pool", org.departments["west"])
    east_pool = make_pool("East pool", org.departments["east"])
    mine = make_customer("Mine", org.rep_east)
    theirs = make_customer("Theirs", org.rep_west)
    rep = client_as(org.rep_east)

    refused = rep.post("/pool/release", data={"csrf_token": csrf(rep), "ids": [str(mine)],
                                              "pool_id": str(west_pool)})
    assert refused.status_code == 400 and "Choose a pool you may release customers to." in html(refused)
    assert "West pool" not in html(refused)  # not even offered
    assert rep.post("/pool/release", data={"csrf_token": csrf(rep), "ids": [str(theirs)],
                                           "pool_id": str(east_pool)}).status_code == 404
    assert rep.post("/pool/release", data={"ids": [str(mine)], "pool_id": str(east_pool)}).status_code == 400
    assert read.customer(mine).owner_id == org.rep_east.id and read.customer(theirs).owner_id == org.rep_west.id


def test_a_department_pool_is_invisible_and_unclaimable_elsewhere(org, client_as, csrf, make_pool, make_customer,
                                                                 read):
    east_pool = make_pool("East pool", org.departments["east"])
    waiting = make_customer("Waiting Co", pool_id=east_pool, department=org.departments["east"])
    west = client_as(org.rep_west)

    assert "East pool" not in html(west.get("/pool/"))
    assert west.get(f"/pool/{east_pool}").status_code == 404
    assert west.post(f"/pool/claim/{waiting}", data={"csrf_token": csrf(west)}).status_code == 404
    assert read.customer(waiting).owner_id is None and read.membership(waiting) is not None
    assert west.get(f"/r/customer/{waiting}").status_code == 404

    # the East manager and the boss see it; the manager of East also sees it in core lists (team scope)
    assert "Waiting Co" in html(client_as(org.manager_east).get(f"/pool/{east_pool}"))
    assert "Waiting Co" in html(client_as(org.boss).get(f"/pool/{east_pool}"))


def test_a_company_wide_pool_serves_everyone(org, client_as, csrf, make_pool, make_customer, read):
    company = make_pool("全公司公海")
    waiting = make_customer("Anyone Co", pool_id=company)
    for user in (org.rep_east, org.rep_west, org.manager_west):
        assert "Anyone Co" in html(client_as(user).get(f"/pool/{company}"))
    assert "Anyone Co" not in html(client_as(org.rep_west).get("/r/customer/"))  # core scope still hides it
    west = client_as(org.rep_west)
    west.post(f"/pool/claim/{waiting}", data={"csrf_token": csrf(west)})
    assert read.customer(waiting).owner_id == org.rep_west.id


def test_capacity_refuses_a_claim_with_a_clear_message(org, client_as, csrf, make_pool, make_customer, read):
    pool = make_pool("Capped", org.departments["east"], capacity=2)
    make_customer("Owned 1", org.rep_east)
    make_customer("Owned 2", org.rep_east)
    waiting = make_customer("Waiting Co", pool_id=pool)
    rep = client_as(org.rep_east)

    refused = rep.post(f"/pool/claim/{waiting}", data={"csrf_token": csrf(rep), "next": f"/pool/{pool}"},
                       follow_redirects=True)

    assert "You already own 2 customers; the pool “Capped” allows at most 2 per salesperson." in html(refused)
    assert read.customer(waiting).owner_id is None and read.membership(waiting) is not None
    colleague = client_as(org.rep_east_sub)  # owns nothing yet: below the capacity
    assert colleague.post(f"/pool/claim/{waiting}", data={"csrf_token": csrf(colleague)}).status_code == 302
    assert read.customer(waiting).owner_id == org.rep_east_sub.id


def test_salespeople_cannot_manage_pools(org, client_as):
    assert client_as(org.rep_east).get("/pool/admin").status_code == 403
    assert client_as(org.procurement).get("/pool/").status_code == 403


def test_two_users_claiming_at_once_exactly_one_wins(app, org, make_pool, make_customer, read):
    pool = make_pool("Company pool")
    for attempt in range(3):
        waiting = make_customer(f"Race {attempt}", pool_id=pool)
        barrier = threading.Barrier(2)
        outcomes = {}

        def try_claim(user):
            with app.app_context():
                barrier.wait()
                try:
                    services.claim(user, waiting)
                    outcomes[user.login] = "won"
                except services.PoolError as refused:
                    outcomes[user.login] = str(refused)

        threads = [threading.Thread(target=try_claim, args=(u,)) for u in (org.rep_east, org.rep_west)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        winners = [login for login, outcome in outcomes.items() if outcome == "won"]
        assert len(outcomes) == 2 and len(winners) == 1, outcomes
        loser = next(o for o in outcomes.values() if o != "won")
        assert loser in (f"Someone else claimed “Race {attempt}” a moment ago.",
                         "This customer is not in a pool you may claim from.")
        assert read.customer(waiting).owner_id == getattr(org, winners[0]).id
        assert [a for a, _u, _c in read.audit(waiting)] == ["pool_claim"]


def test_a_customer_taken_meanwhile_is_not_claimed_twice(app, gx, org, make_pool, make_customer, read):
    pool = make_pool("Company pool")
    waiting = make_customer("Taken Co", pool_id=pool)
    # someone gave it an owner without going through the pool (e.g. a manager's transfer)
    with gx.system_session("test: transferred") as session:
        from core.models import Customer
        session.execute(select(Customer).where(Customer.id == waiting)).scalar_one().owner_id = org.rep_west.id
        session.commit()

    with app.app_context(), pytest.raises(services.PoolError, match="Someone else claimed"):
        services.claim(org.rep_east, waiting)
    assert read.customer(waiting).owner_id == org.rep_west.id


def test_a_manager_gives_a_pool_customer_to_a_team_member(org, client_as, csrf, make_pool, make_customer, read):
    pool = make_pool("East pool", org.departments["east"], capacity=1)
    waiting = make_customer("Given Co", pool_id=pool)
    other = make_customer("Other Co", pool_id=pool)
    make_customer("Already owned", org.rep_east)  # rep_east is at the capacity of 1
    manager = client_as(org.manager_east)
    page = html(manager.get(f"/pool/{pool}"))
    assert "Assign" in page and "李四 Li Si" in page and "王五 Wang Wu" not in page  # his team only
    assert "Assign" not in html(client_as(org.rep_east).get(f"/pool/{pool}"))

    outsider = manager.post(f"/pool/assign/{waiting}", data={"csrf_token": csrf(manager),
                                                              "assignee_id": str(org.rep_west.id)},
                            follow_redirects=True)
    assert "Choose a member of your team." in html(outsider)
    full = manager.post(f"/pool/assign/{other}", data={"csrf_token": csrf(manager),
                                                        "assignee_id": str(org.rep_east.id)}, follow_redirects=True)
    assert "张三 Zhang San already owns 1 customers" in html(full)
    given = manager.post(f"/pool/assign/{waiting}", data={"csrf_token": csrf(manager),
                                                          "assignee_id": str(org.rep_east_sub.id)})

    assert given.status_code == 302
    assert read.customer(waiting).owner_id == org.rep_east_sub.id and read.membership(waiting) is None
    assert read.audit(waiting)[-1][:2] == ("pool_assign", org.manager_east.id)
    assert read.customer(other).owner_id is None and read.membership(other) is not None
    rep = client_as(org.rep_east)
    assert rep.post(f"/pool/assign/{other}", data={"csrf_token": csrf(rep),
                                                    "assignee_id": str(org.rep_east.id)}).status_code == 403


def test_a_pool_customer_transferred_by_core_leaves_the_pool(org, client_as, csrf, make_pool, make_customer, read):
    pool = make_pool("East pool", org.departments["east"])
    waiting = make_customer("Transferred Co", pool_id=pool, department=org.departments["east"])
    manager = client_as(org.manager_east)  # team scope: he sees the East pool's customers in core lists too
    response = manager.post("/r/customer/transfer", data={"csrf_token": csrf(manager), "ids": [str(waiting)],
                                                           "owner_id": str(org.rep_east.id)})
    assert response.status_code == 302, response.status_code
    assert read.customer(waiting).owner_id == org.rep_east.id
    assert read.membership(waiting) is None
