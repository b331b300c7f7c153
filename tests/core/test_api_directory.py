"""REST API directory: users and departments, read only, keyset paginated, never a password hash."""
from core.models import Role, User

USER_KEYS = {"id", "login", "name", "email", "phone", "department_id", "active", "roles"}
DEPARTMENT_KEYS = {"id", "name", "parent_id", "path", "manager_id"}


def test_users_list_shows_the_directory_fields_only(app, org, api_as):
    response = api_as(org.rep_east).get("/api/v1/users?limit=200")
    assert response.status_code == 200
    body = response.get_json()
    assert {u["login"] for u in body["items"]} == {u.login for u in org.users()}
    assert all(set(u) == USER_KEYS for u in body["items"])
    assert "argon2" not in response.get_data(as_text=True) and "password" not in response.get_data(as_text=True)
    boss = next(u for u in body["items"] if u["login"] == "boss")
    assert boss["roles"] == ["boss"] and boss["department_id"] == org.boss.department_id
    assert next(u for u in body["items"] if u["login"] == "deactivated")["active"] is False


def test_users_filters_search_and_pages(app, org, api_as):
    api = api_as(org.manager_west)
    east = org.departments["east"].id
    in_east = api.get(f"/api/v1/users?department_id={east}").get_json()["items"]
    assert {u["login"] for u in in_east} == {"manager_east", "rep_east", "deactivated"}
    active = api.get(f"/api/v1/users?department_id={east}&active=true").get_json()["items"]
    assert {u["login"] for u in active} == {"manager_east", "rep_east"}
    assert [u["login"] for u in api.get("/api/v1/users?q=Zhang").get_json()["items"]] == ["rep_east"]

    logins, cursor = [], None
    while True:
        body = api.get("/api/v1/users?limit=3&sort=login" + (f"&cursor={cursor}" if cursor else "")).get_json()
        assert len(body["items"]) <= 3 and body["count"] == 10
        logins += [u["login"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert logins == sorted(u.login for u in org.users())
    assert api.get("/api/v1/users?password_hash=x").status_code == 400
    assert api.get("/api/v1/users?sort=email").status_code == 400


def test_user_detail(app, org, api_as):
    api = api_as(org.rep_west)
    detail = api.get(f"/api/v1/users/{org.manager_east.id}")
    assert detail.status_code == 200
    assert detail.get_json()["login"] == "manager_east" and set(detail.get_json()) == USER_KEYS
    assert api.get("/api/v1/users/999999").status_code == 404


def test_departments_list(app, org, api_as):
    body = api_as(org.procurement).get("/api/v1/departments").get_json()
    by_name = {d["name"]: d for d in body["items"]}
    assert set(by_name) == {d.name for d in org.departments.values()}
    assert all(set(d) == DEPARTMENT_KEYS for d in body["items"])
    east, east1 = org.departments["east"], org.departments["east1"]
    assert by_name[east1.name]["parent_id"] == east.id
    assert by_name[east1.name]["path"].startswith(by_name[east.name]["path"])
    assert by_name[east.name]["manager_id"] == org.manager_east.id
    children = api_as(org.boss).get(f"/api/v1/departments?parent_id={east.id}").get_json()["items"]
    assert [d["id"] for d in children] == [east1.id]


def test_directory_needs_the_permission_and_a_token(app, org, api_as, system_session):
    nobody = User(login="nobody", name="No Roles", department_id=org.rep_east.department_id, active=True)
    nobody.roles = [Role(key="empty", name="Empty")]
    system_session.add(nobody)
    system_session.commit()
    api = api_as(nobody)
    for url in ("/api/v1/users", f"/api/v1/users/{org.boss.id}", "/api/v1/departments"):
        assert api.get(url).status_code == 403, url
        assert app.test_client().get(url).status_code == 401, url


def test_directory_is_read_only(app, org, api_as, system_session):
    boss = api_as(org.boss)
    # "users" is not an entity: the generic write routes answer 404, the directory routes 405
    assert boss.post("/api/v1/users", json={"login": "evil", "name": "Evil"}).status_code in (404, 405)
    assert boss.patch(f"/api/v1/users/{org.boss.id}", json={"name": "X"}).status_code in (404, 405)
    assert boss.delete("/api/v1/departments").status_code == 405
    system_session.expire_all()
    assert system_session.get(User, org.boss.id).name == org.boss.name
    assert system_session.query(User).filter_by(login="evil").count() == 0
