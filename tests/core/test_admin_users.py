"""User administration pages and services: round trip, field errors, password reset and deactivation end
sessions, mass-assignment defence (SECURITY.md A.8, C.16) and 403 for non-administrators."""
import re

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from core import orgservice
from core.models import AuditEntry, Role, User, UserSession
from core.passwords import verify_password
from core.services import Forbidden
from core.testing import TEST_PASSWORD

NEW_PASSWORD = "Plum-Orchard-Lantern-2048"


def fresh(session):
    """End the session's transaction so that the next read sees what the app committed meanwhile
    (MariaDB's repeatable read would otherwise answer from the old snapshot)."""
    session.rollback()
    return session


def role_id(session, key):
    return session.execute(select(Role).where(Role.key == key)).scalar_one().id


def fresh_user(session, user_id):
    return fresh(session).execute(select(User).where(User.id == user_id).execution_options(
        populate_existing=True)).scalar_one()


def post(client, csrf, url, data):
    return client.post(url, data={**data, "csrf_token": csrf(client)})


def test_create_user_through_the_page(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    assert "New user" in admin.get("/admin/users/new").get_data(as_text=True)
    response = post(admin, csrf, "/admin/users/new", {
        "login": "rep_new", "name": "冯九 Feng Jiu", "email": "feng@example.com", "phone": "13800000000",
        "department_id": org.departments["east"].id, "role_ids": [role_id(system_session, "salesperson")],
        "language": "zh_CN", "password": NEW_PASSWORD, "active": "1"})
    assert response.status_code == 302
    user = fresh(system_session).execute(select(User).where(User.login == "rep_new")).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/users/{user.id}")
    assert (user.name, user.department_id, user.language, user.active) == (
        "冯九 Feng Jiu", org.departments["east"].id, "zh_CN", True)
    assert [r.key for r in user.roles] == ["salesperson"]
    assert verify_password(user.password_hash, NEW_PASSWORD)
    audit = fresh(system_session).execute(select(AuditEntry).where(AuditEntry.entity == "user",
                                                            AuditEntry.record_id == user.id)).scalar_one()
    assert audit.action == "create" and audit.user_id == org.admin.id
    assert NEW_PASSWORD not in str(audit.changes) and "password" not in str(audit.changes)
    listing = admin.get(f"/admin/users?department={org.departments['east'].id}").get_data(as_text=True)
    assert "rep_new" in listing and "rep_east_sub" in listing and "rep_west" not in listing


def test_user_form_errors_appear_at_their_field_and_keep_the_input(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    response = post(admin, csrf, "/admin/users/new", {
        "login": "REP_EAST", "name": "Typed Name", "email": "not-an-address", "password": "short",
        "role_ids": [role_id(system_session, "salesperson")]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="login"[^>]*>\s*<div class="invalid-feedback d-block">This login is already taken\.', html)
    assert "Not a valid e-mail address." in html and "Use at least 12 characters." in html
    assert 'value="Typed Name"' in html
    assert fresh(system_session).execute(select(User).where(User.name == "Typed Name")).first() is None


def test_password_policy_rejects_the_users_own_words(app, org, system_session):
    with app.test_request_context():
        with pytest.raises(ValidationError) as refused:
            orgservice.create_user(system_session, {"login": "huahong", "name": "Hua Hong",
                                                    "password": "my-huahong-password-1"})
        assert "password" in refused.value.messages
        system_session.rollback()
        with pytest.raises(ValidationError):
            orgservice.set_password(system_session, org.rep_east.id, "guanxi-company-password")


def test_edit_roles_and_profile(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    page = admin.get(f"/admin/users/{org.rep_east.id}").get_data(as_text=True)
    assert "张三 Zhang San" in page
    response = post(admin, csrf, f"/admin/users/{org.rep_east.id}", {
        "login": "rep_east", "name": "张三 Zhang San (East)", "email": "zs@example.com",
        "department_id": org.departments["east"].id, "language": "en",
        "role_ids": [role_id(system_session, "sales_manager")]})
    assert response.status_code == 302
    user = fresh_user(system_session, org.rep_east.id)
    assert user.name == "张三 Zhang San (East)" and [r.key for r in user.roles] == ["sales_manager"]
    audit = fresh(system_session).execute(select(AuditEntry).where(
        AuditEntry.entity == "user", AuditEntry.record_id == user.id, AuditEntry.action == "update")).scalar_one()
    assert audit.changes["roles"] == [["salesperson"], ["sales_manager"]]


def test_password_reset_ends_the_users_sessions_and_is_audited(app, org, client_as, csrf, system_session):
    rep = client_as(org.rep_east)
    assert rep.get("/").status_code == 200
    admin = client_as(org.admin)
    mismatch = post(admin, csrf, f"/admin/users/{org.rep_east.id}/password",
                    {"password": NEW_PASSWORD, "password_confirm": "something else"})
    assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.get_data(as_text=True)
    response = post(admin, csrf, f"/admin/users/{org.rep_east.id}/password",
                    {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert rep.get("/").status_code == 302  # logged out
    assert verify_password(fresh_user(system_session, org.rep_east.id).password_hash, NEW_PASSWORD)
    entry = fresh(system_session).execute(select(AuditEntry).where(AuditEntry.action == "password_reset")).scalar_one()
    assert (entry.entity, entry.record_id, entry.user_id, entry.changes) == ("user", org.rep_east.id,
                                                                              org.admin.id, {})
    assert admin.get("/").status_code == 200  # the administrator's own session is untouched


def test_deactivation_rejects_the_existing_session_at_the_next_request(app, org, client_as, csrf, system_session):
    rep = client_as(org.rep_west)
    assert rep.get("/").status_code == 200
    admin = client_as(org.admin)
    assert post(admin, csrf, f"/admin/users/{org.rep_west.id}/deactivate", {}).status_code == 302
    response = rep.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not fresh_user(system_session, org.rep_west.id).active
    sessions = fresh(system_session).execute(
        select(UserSession).where(UserSession.user_id == org.rep_west.id)).scalars()
    assert all(s.revoked_at is not None for s in sessions)
    assert post(admin, csrf, f"/admin/users/{org.rep_west.id}/reactivate", {}).status_code == 302
    assert fresh_user(system_session, org.rep_west.id).active
    assert rep.get("/").status_code == 302  # reactivation does not revive old sessions


def test_nobody_edits_own_roles_or_deactivates_himself(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    page = admin.get(f"/admin/users/{org.admin.id}").get_data(as_text=True)
    assert "You cannot change your own roles." in page
    response = post(admin, csrf, f"/admin/users/{org.admin.id}", {
        "login": "admin", "name": "管理员 Admin",
        "role_ids": [role_id(system_session, "admin"), role_id(system_session, "boss")]})
    assert response.status_code == 422
    assert "You cannot change your own roles." in response.get_data(as_text=True)
    assert [r.key for r in fresh_user(system_session, org.admin.id).roles] == ["admin"]
    refused = post(admin, csrf, f"/admin/users/{org.admin.id}/deactivate", {})
    assert refused.status_code == 422 and fresh_user(system_session, org.admin.id).active


@pytest.fixture
def team_admin(app, org, system_session):
    """manager_east also gets a custom "team administrator" role: user administration, nothing wider than
    a sales manager's data access."""
    with app.test_request_context():
        role = orgservice.create_role(system_session, "Team administrator", grants={
            "core.admin.users": "all", "core.user.view": "all", "core.customer.view": "team"})
        manager = fresh_user(system_session, org.manager_east.id)
        manager.roles = [*manager.roles, role]
        system_session.commit()
    return org.manager_east


def test_limited_admin_cannot_grant_a_wider_role(app, org, team_admin, client_as, csrf, system_session):
    client = client_as(team_admin)
    form = {"login": "rep_new", "name": "New Rep", "password": NEW_PASSWORD, "active": "1",
            "department_id": org.departments["east"].id}
    page = client.get("/admin/users/new").get_data(as_text=True)
    boss_id = role_id(system_session, "boss")
    assert re.search(rf'value="{boss_id}" id="role-{boss_id}" disabled', page)
    wider = post(client, csrf, "/admin/users/new", {**form, "role_ids": [boss_id]})
    assert wider.status_code == 422
    assert "You may not grant or remove roles wider than your own" in wider.get_data(as_text=True)
    assert fresh(system_session).execute(select(User).where(User.login == "rep_new")).first() is None
    allowed = post(client, csrf, "/admin/users/new", {**form, "role_ids": [role_id(system_session, "salesperson")]})
    assert allowed.status_code == 302
    # nor give an existing user the admin role, nor take over a more powerful account
    raise_rep = post(client, csrf, f"/admin/users/{org.rep_east.id}", {
        "login": "rep_east", "name": "张三 Zhang San", "role_ids": [role_id(system_session, "admin")]})
    assert raise_rep.status_code == 422
    assert [r.key for r in fresh_user(system_session, org.rep_east.id).roles] == ["salesperson"]
    assert "This user holds roles wider than yours" in client.get(f"/admin/users/{org.boss.id}").get_data(as_text=True)
    takeover = post(client, csrf, f"/admin/users/{org.boss.id}/password",
                    {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert takeover.status_code == 403
    assert verify_password(fresh_user(system_session, org.boss.id).password_hash, TEST_PASSWORD)


def test_limited_admin_service_calls_are_refused(app, org, team_admin, system_session):
    from core.runtime import current
    from core.scope import build_user_scope, set_scope
    with app.test_request_context():
        gx = current()
        session = gx.new_session()
        manager = fresh_user(session, team_admin.id)
        set_scope(session, build_user_scope(session, manager, gx.entities, gx.hook))
        with pytest.raises(Forbidden):
            orgservice.deactivate_user(session, org.boss.id)
        with pytest.raises(Forbidden):  # no core.admin.roles
            orgservice.create_role(session, "Sneaky")
        with pytest.raises(ValidationError):  # his own roles
            orgservice.update_user(session, manager.id, {"role_ids": [role_id(session, "salesperson")]})
        session.close()


def admin_urls(app, org, system_session):
    """Every admin route with real ids filled in: (method, url)."""
    values = {"user_id": org.rep_east.id, "dept_id": org.departments["east"].id,
              "role_id": role_id(system_session, "salesperson"), "name": "core",
              "entity": "customer", "field_id": 1}  # custom field pages (module builder)
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(values[arg]), url)
        urls += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_non_admins_get_403_on_every_admin_page(app, org, client_as, csrf, system_session):
    urls = admin_urls(app, org, system_session)
    assert len(urls) >= 20
    for login in ("rep_east", "manager_east", "boss", "procurement", "service"):
        client = client_as(getattr(org, login))
        token = csrf(client)
        for method, url in urls:
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 403, (login, method, url, response.status_code)


def test_each_admin_area_needs_its_own_permission(app, org, team_admin, client_as):
    client = client_as(team_admin)
    assert client.get("/admin/users").status_code == 200
    for url in ("/admin/roles", "/admin/departments", "/admin/modules", "/admin/explain"):
        assert client.get(url).status_code == 403, url
    admin_menu = client.get("/").get_data(as_text=True)
    assert "/admin/users" in admin_menu and "/admin/roles" not in admin_menu
