"""REST API record endpoints: CRUD of every core entity, data scope, permissions, field-level isolation,
mass assignment, ownership forging and optimistic locking (SECURITY.md A1, A3, A4, A5, A8, I38)."""
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.models import Customer, Product, Role, RoleGrant, User


def make_customer(session, owner, name="Acme 华东", **values):
    customer = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, **values)
    session.add(customer)
    session.commit()
    return customer


def make_product(session, code="P-1", cost="7.50"):
    product = Product(code=code, name=f"Widget {code}", price=Decimal("10.00"), cost=Decimal(cost))
    session.add(product)
    session.commit()
    return product


def fresh(session, model, record_id):
    session.expire_all()
    return session.execute(select(model).where(model.id == record_id)
                           .execution_options(include_deleted=True)).scalar_one()


def without_times(body):
    """MariaDB DATETIME keeps whole seconds: the stored timestamps may differ from the write's echo."""
    return {k: v for k, v in body.items() if not k.endswith("_at")}


def ids(response):
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


PAYLOADS = {
    "customer": ({"name": "北京科技 Beijing Tech", "status": "intention", "tags": ["vip"]}, {"city": "Beijing"}),
    "contact": ({"name": "Li Lei", "customer_id": None, "email": "li@example.com"}, {"title": "CTO"}),
    "followup": ({"content": "Called about the quote", "customer_id": None, "kind": "visit"},
                 {"content": "Visited, quote accepted"}),
    "product": ({"code": "X-100", "name": "Pump", "price": "99.50", "cost": "40.00"}, {"price": "89.00"}),
}


@pytest.mark.parametrize("entity", sorted(PAYLOADS))
def test_crud_round_trip(app, org, api_as, system_session, entity):
    api = api_as(org.boss)
    parent = make_customer(system_session, org.boss, "Parent Co")
    create, change = PAYLOADS[entity]
    create = {k: (parent.id if v is None else v) for k, v in create.items()}

    created = api.post(f"/api/v1/{entity}", json=create)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/{entity}/{record['id']}")
    for key, value in create.items():
        assert record[key] == value

    detail = api.get(f"/api/v1/{entity}/{record['id']}")
    assert detail.status_code == 200 and without_times(detail.get_json()) == without_times(record)
    assert record["id"] in ids(api.get(f"/api/v1/{entity}"))

    patched = api.patch(f"/api/v1/{entity}/{record['id']}", json={**change, "version": record["version"]})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["version"] == record["version"] + 1
    for key, value in change.items():
        assert patched.get_json()[key] == value
    assert without_times(api.get(f"/api/v1/{entity}/{record['id']}").get_json()) == without_times(patched.get_json())

    deleted = api.delete(f"/api/v1/{entity}/{record['id']}")
    assert deleted.status_code == 204 and deleted.data == b""
    assert api.get(f"/api/v1/{entity}/{record['id']}").status_code == 404
    assert record["id"] not in ids(api.get(f"/api/v1/{entity}"))
    model = app.extensions["guanxi"].entities[entity].model
    assert fresh(system_session, model, record["id"]).deleted_at is not None  # soft: in the recycle bin


def test_peer_cannot_read_change_or_delete(app, org, api_as, system_session):
    east = make_customer(system_session, org.rep_east, "East Only", phone="021-1234")
    west = api_as(org.rep_west)
    missing = west.get("/api/v1/customer/999999")
    assert missing.status_code == 404
    for method, kwargs in (("get", {}), ("patch", {"json": {"name": "Hijacked"}}), ("delete", {})):
        response = getattr(west, method)(f"/api/v1/customer/{east.id}", **kwargs)
        assert response.status_code == 404
        assert response.get_json() == missing.get_json()
    assert east.id not in ids(west.get("/api/v1/customer"))
    row = fresh(system_session, Customer, east.id)
    assert (row.name, row.version, row.deleted_at, row.owner_id) == ("East Only", 1, None, org.rep_east.id)


def test_manager_sees_his_team_and_boss_sees_everyone(app, org, api_as, system_session):
    east = make_customer(system_session, org.rep_east, "E")
    east_sub = make_customer(system_session, org.rep_east_sub, "E1")
    west = make_customer(system_session, org.rep_west, "W")
    assert ids(api_as(org.rep_east).get("/api/v1/customer")) == {east.id}
    assert ids(api_as(org.manager_east).get("/api/v1/customer")) == {east.id, east_sub.id}
    assert ids(api_as(org.manager_west).get("/api/v1/customer")) == {west.id}
    assert ids(api_as(org.boss).get("/api/v1/customer")) == {east.id, east_sub.id, west.id}
    manager = api_as(org.manager_east)
    assert manager.get(f"/api/v1/customer/{east_sub.id}").status_code == 200
    assert manager.patch(f"/api/v1/customer/{east_sub.id}", json={"city": "Hangzhou"}).status_code == 200
    assert manager.get(f"/api/v1/customer/{west.id}").status_code == 404


def test_procurement_is_refused_customers_and_sees_cost(app, org, api_as, system_session):
    customer = make_customer(system_session, org.rep_east)
    product = make_product(system_session)
    buyer = api_as(org.procurement)
    assert buyer.get("/api/v1/customer").status_code == 403
    assert buyer.get(f"/api/v1/customer/{customer.id}").status_code == 403
    assert buyer.post("/api/v1/customer", json={"name": "X"}).status_code == 403
    assert buyer.get("/api/v1/customer").get_json()["error"] == "forbidden"
    assert buyer.get(f"/api/v1/product/{product.id}").get_json()["cost"] == "7.50"
    assert buyer.get("/api/v1/product").get_json()["items"][0]["cost"] == "7.50"
    changed = buyer.patch(f"/api/v1/product/{product.id}", json={"cost": "8.25"})
    assert changed.status_code == 200 and changed.get_json()["cost"] == "8.25"


def test_salesperson_never_sees_cost_and_cannot_use_it(app, org, api_as, system_session):
    product = make_product(system_session)
    rep = api_as(org.rep_east)
    listed = rep.get("/api/v1/product").get_json()["items"]
    assert [p["id"] for p in listed] == [product.id]
    assert "cost" not in listed[0] and listed[0]["price"] == "10.00"
    detail = rep.get(f"/api/v1/product/{product.id}")
    assert detail.status_code == 200 and "cost" not in detail.get_json()
    assert "7.50" not in detail.get_data(as_text=True)
    for query in ("cost=7.50", "sort=cost", "sort=-cost"):
        response = rep.get(f"/api/v1/product?{query}")
        assert response.status_code == 400, query
        assert set(response.get_json()["fields"]) <= {"cost", "sort"}


def _catalogue_clerk(system_session, org):
    """A user who may edit products but not see their cost (a role an admin could build)."""
    role = Role(key="catalogue", name="Catalogue clerk")
    role.grants = [RoleGrant(permission=f"core.product.{a}", level="all") for a in ("view", "create", "edit")]
    clerk = User(login="clerk", name="Clerk", department_id=org.rep_east.department_id, active=True)
    clerk.roles = [role]
    system_session.add(clerk)
    system_session.commit()
    return clerk


def test_hidden_field_in_a_body_is_refused(app, org, api_as, system_session):
    product = make_product(system_session)
    clerk = api_as(_catalogue_clerk(system_session, org))
    created = clerk.post("/api/v1/product", json={"code": "C-1", "name": "Cog", "cost": "1.00"})
    assert created.status_code == 422 and "cost" in created.get_json()["fields"]
    patched = clerk.patch(f"/api/v1/product/{product.id}", json={"cost": "0.01"})
    assert patched.status_code == 422 and "cost" in patched.get_json()["fields"]
    assert fresh(system_session, Product, product.id).cost == Decimal("7.50")
    assert clerk.patch(f"/api/v1/product/{product.id}", json={"name": "Renamed"}).status_code == 200


def test_unknown_field_is_named(app, org, api_as, system_session):
    response = api_as(org.rep_east).post("/api/v1/customer", json={"name": "X", "colour": "red"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed" and list(body["fields"]) == ["colour"]
    assert system_session.execute(select(func.count(Customer.id))).scalar_one() == 0


@pytest.mark.parametrize("field, value", [("department_id", 1), ("id", 4242), ("created_at", "2020-01-01T00:00:00Z"),
                                          ("updated_at", "2020-01-01T00:00:00Z")])
def test_mass_assignment_is_refused(app, org, api_as, system_session, field, value):
    rep = api_as(org.rep_east)
    created = rep.post("/api/v1/customer", json={"name": "X", field: value})
    assert created.status_code == 422 and field in created.get_json()["fields"]
    assert system_session.execute(select(func.count(Customer.id))).scalar_one() == 0
    mine = make_customer(system_session, org.rep_east)
    patched = rep.patch(f"/api/v1/customer/{mine.id}", json={field: value})
    assert patched.status_code == 422 and field in patched.get_json()["fields"]
    row = fresh(system_session, Customer, mine.id)
    assert (row.id, row.department_id, row.version) == (mine.id, org.rep_east.department_id, 1)


def test_owner_outside_the_callers_scope_is_refused(app, org, api_as, system_session):
    rep = api_as(org.rep_east)
    forged = rep.post("/api/v1/customer", json={"name": "Forged", "owner_id": org.rep_west.id})
    assert forged.status_code == 422 and "owner_id" in forged.get_json()["fields"]
    assert system_session.execute(select(func.count(Customer.id))).scalar_one() == 0

    team = make_customer(system_session, org.rep_east_sub)
    manager = api_as(org.manager_east)
    assert manager.patch(f"/api/v1/customer/{team.id}", json={"owner_id": org.rep_west.id}).status_code == 422
    moved = manager.patch(f"/api/v1/customer/{team.id}", json={"owner_id": org.rep_east.id})
    assert moved.status_code == 200 and moved.get_json()["owner_id"] == org.rep_east.id
    assert fresh(system_session, Customer, team.id).department_id == org.rep_east.department_id


def test_stale_version_is_a_conflict(app, org, api_as, system_session):
    mine = make_customer(system_session, org.rep_east, "Before")
    rep = api_as(org.rep_east)
    assert rep.patch(f"/api/v1/customer/{mine.id}", json={"name": "First", "version": 1}).status_code == 200
    stale = rep.patch(f"/api/v1/customer/{mine.id}", json={"name": "Second", "version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"] == "conflict" and stale.get_json()["current_version"] == 2
    row = fresh(system_session, Customer, mine.id)
    assert (row.name, row.version) == ("First", 2)


def test_parallel_patches_with_one_version_yield_one_winner(app, org, api_as, system_session):
    mine = make_customer(system_session, org.rep_east, "Race")
    clients = [api_as(org.rep_east) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def patch(index):
        barrier.wait()
        response = clients[index].patch(f"/api/v1/customer/{mine.id}", json={"city": f"city-{index}", "version": 1})
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [409] * 7, results
    winner = next(body for status, body in results if status == 200)
    row = fresh(system_session, Customer, mine.id)
    assert (row.version, row.city) == (2, winner["city"])
    assert all(body["current_version"] == 2 for status, body in results if status == 409)


def test_list_filters_search_sort_and_pages(app, org, api_as, system_session):
    names = ["Delta", "alpha", "Charlie", "Bravo", "Echo"]
    made = {n: make_customer(system_session, org.boss, n, status="closed" if n in ("Delta", "Echo") else "potential")
            for n in names}
    boss = api_as(org.boss)
    assert ids(boss.get("/api/v1/customer?status=closed")) == {made["Delta"].id, made["Echo"].id}
    assert ids(boss.get("/api/v1/customer?q=ALPH")) == {made["alpha"].id}
    assert ids(boss.get(f"/api/v1/customer?owner_id={org.boss.id}&status=potential")) == \
        {made[n].id for n in ("alpha", "Charlie", "Bravo")}
    assert ids(boss.get(f"/api/v1/customer?owner_id={org.rep_west.id}")) == set()

    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/customer?limit=2&sort=-id" + (f"&cursor={cursor}" if cursor else "")
        body = boss.get(url).get_json()
        assert body["count"] == 5 and body["count_capped"] is False
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == sorted((c.id for c in made.values()), reverse=True)

    by_name, cursor = [], None
    while True:
        body = boss.get("/api/v1/customer?limit=2&sort=name" + (f"&cursor={cursor}" if cursor else "")).get_json()
        by_name += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(by_name, key=str.lower) == sorted(names, key=str.lower) and len(by_name) == 5


def test_typed_filters(app, org, api_as, system_session):
    customer = make_customer(system_session, org.rep_east)
    rep = api_as(org.rep_east)
    primary = rep.post("/api/v1/contact", json={"name": "Han", "customer_id": customer.id, "is_primary": True})
    other = rep.post("/api/v1/contact", json={"name": "Mei", "customer_id": customer.id})
    assert ids(rep.get("/api/v1/contact?is_primary=true")) == {primary.get_json()["id"]}
    assert ids(rep.get("/api/v1/contact?is_primary=false")) == {other.get_json()["id"]}
    assert len(ids(rep.get(f"/api/v1/contact?customer_id={customer.id}"))) == 2
    for query in ("is_primary=maybe", "customer_id=abc", "customer_id=1.5"):
        response = rep.get(f"/api/v1/contact?{query}")
        assert response.status_code == 400 and query.split("=")[0] in response.get_json()["fields"], query
    assert rep.get("/api/v1/customer?status=bogus").status_code == 400


def test_references_must_be_visible(app, org, api_as, system_session):
    west = make_customer(system_session, org.rep_west)
    response = api_as(org.rep_east).post("/api/v1/contact", json={"name": "Spy", "customer_id": west.id})
    assert response.status_code == 422 and "customer_id" in response.get_json()["fields"]


def test_duplicate_unique_value_is_a_conflict(app, org, api_as, system_session):
    make_product(system_session, code="DUP")
    response = api_as(org.boss).post("/api/v1/product", json={"code": "DUP", "name": "Again"})
    assert response.status_code == 409 and response.get_json()["error"] == "conflict"
    assert system_session.execute(select(func.count(Product.id))).scalar_one() == 1


def test_list_query_count_does_not_grow_with_the_page(app, org, api_as, system_session, count_queries):
    def queries_for_a_page_of(n):
        for i in range(n - system_session.execute(select(func.count(Customer.id))).scalar_one()):
            make_customer(system_session, org.rep_east, f"C{i}", phone=f"{i}")
        api = api_as(org.boss)
        api.get("/api/v1/customer?limit=1")  # the token's first use writes last_used_at
        with count_queries() as counter:
            response = api.get("/api/v1/customer?limit=200")
        assert len(response.get_json()["items"]) == n
        return counter.count

    small = queries_for_a_page_of(3)
    assert queries_for_a_page_of(30) == small


def walk(api, url):
    """Every item of a keyset-paginated list, page by page."""
    items, cursor = [], None
    while True:
        body = api.get(url + (f"&cursor={cursor}" if cursor else "")).get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_pages_sorted_by_a_column_with_nulls_cover_every_row(app, org, api_as):
    api = api_as(org.boss)
    for index, day in enumerate([None, "2030-01-01", None, "2029-01-01", "2030-01-01"]):
        assert api.post("/api/v1/followup", json={"content": f"c{index}", "next_follow_up": day}).status_code == 201
    ascending = [i["content"] for i in walk(api, "/api/v1/followup?limit=1&sort=next_follow_up")]
    assert ascending == ["c3", "c1", "c4", "c0", "c2"]  # NULLs last, ties by id
    descending = [i["content"] for i in walk(api, "/api/v1/followup?limit=2&sort=-next_follow_up")]
    assert descending == list(reversed(ascending))
