"""Departments, roles and modules administration: pages call the services; moves rebuild the materialised
paths of the whole subtree and team visibility follows; roles obey level rules; module switches are stored."""
import contextlib

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from core import orgservice
from core.models import AuditEntry, Customer, Department, ModuleState, Role, RoleGrant, User
from core.scope import build_user_scope, set_scope


def fresh(session):
    """End the session's transaction so that the next read sees what the app committed meanwhile
    (MariaDB's repeatable read would otherwise answer from the old snapshot)."""
    session.rollback()
    return session


def post(client, csrf, url, data):
    return client.post(url, data={**data, "csrf_token": csrf(client)})


def dept(session, dept_id):
    return fresh(session).execute(select(Department).where(Department.id == dept_id).execution_options(
        populate_existing=True)).scalar_one()


@contextlib.contextmanager
def session_as(gx, user):
    """A fresh session carrying ``user``'s real data scope, as a request of his would."""
    session = gx.new_session()
    try:
        me = session.execute(select(User).where(User.id == user.id)).scalar_one()
        set_scope(session, build_user_scope(session, me, gx.entities, gx.hook))
        yield session
    finally:
        session.close()


def visible_customers(gx, user):
    with session_as(gx, user) as session:
        return set(session.execute(select(Customer.id)).scalars())


def add_customer(session, owner, name):
    customer = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(customer)
    session.commit()
    return customer.id


# ------------------------------------------------------------------ departments

def test_department_tree_page_create_rename_and_manager(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    page = admin.get("/admin/departments").get_data(as_text=True)
    assert "华东一组 East-1" in page and "华东经理 East Manager" in page
    east = org.departments["east"]
    assert post(admin, csrf, "/admin/departments", {"name": "华东二组 East-2", "parent_id": east.id}).status_code == 302
    created = fresh(system_session).execute(select(Department).where(Department.name == "华东二组 East-2")).scalar_one()
    assert created.parent_id == east.id and created.path == f"{east.path}{created.id}/"
    empty = post(admin, csrf, "/admin/departments", {"name": "  ", "parent_id": east.id})
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    assert post(admin, csrf, f"/admin/departments/{created.id}/rename", {"name": "华东二组"}).status_code == 302
    assert post(admin, csrf, f"/admin/departments/{created.id}/manager",
                {"manager_id": org.rep_east.id}).status_code == 302
    refreshed = dept(system_session, created.id)
    assert (refreshed.name, refreshed.manager_id) == ("华东二组", org.rep_east.id)
    inactive = post(admin, csrf, f"/admin/departments/{created.id}/manager", {"manager_id": org.deactivated.id})
    assert inactive.status_code == 422 and "Unknown or inactive user." in inactive.get_data(as_text=True)


def test_move_rebuilds_the_subtree_and_team_visibility_follows(app, gx, org, client_as, csrf, system_session):
    east, east1, west = (org.departments[k] for k in ("east", "east1", "west"))
    admin = client_as(org.admin)
    post(admin, csrf, "/admin/departments", {"name": "East-1 Shanghai", "parent_id": east1.id})
    grandchild = fresh(system_session).execute(
        select(Department).where(Department.name == "East-1 Shanghai")).scalar_one()
    sub_customer = add_customer(system_session, org.rep_east_sub, "上海华宏贸易有限公司")
    assert sub_customer in visible_customers(gx, org.manager_east)
    assert sub_customer not in visible_customers(gx, org.manager_west)

    assert post(admin, csrf, f"/admin/departments/{east1.id}/move", {"parent_id": west.id}).status_code == 302
    moved, below = dept(system_session, east1.id), dept(system_session, grandchild.id)
    assert moved.parent_id == west.id and moved.path == f"{west.path}{east1.id}/"
    assert below.path == f"{west.path}{east1.id}/{grandchild.id}/"
    assert dept(system_session, east.id).path == east.path
    assert sub_customer not in visible_customers(gx, org.manager_east)
    assert sub_customer in visible_customers(gx, org.manager_west)
    assert visible_customers(gx, org.rep_east_sub) == {sub_customer}
    audit = fresh(system_session).execute(select(AuditEntry).where(AuditEntry.entity == "department",
                                                            AuditEntry.action == "move")).scalar_one()
    assert audit.changes == {"parent_id": [east.id, west.id]}


def test_moving_under_itself_or_a_descendant_is_refused(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    east, east1 = org.departments["east"], org.departments["east1"]
    for target in (east1.id, east.id):
        response = post(admin, csrf, f"/admin/departments/{east.id}/move", {"parent_id": target})
        assert response.status_code == 422
        assert "cannot be moved under itself" in response.get_data(as_text=True)
    assert dept(system_session, east.id).path == east.path
    assert dept(system_session, east1.id).path == east1.path


def test_move_to_the_top_level(app, org, system_session):
    with app.test_request_context():
        orgservice.move_department(system_session, org.departments["east"].id, None)
    east = org.departments["east"]
    assert dept(system_session, east.id).path == f"/{east.id}/"
    assert dept(system_session, org.departments["east1"].id).path == f"/{east.id}/{org.departments['east1'].id}/"


def test_only_empty_departments_can_be_deleted(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    with_children = post(admin, csrf, f"/admin/departments/{org.departments['east'].id}/delete", {})
    assert with_children.status_code == 422 and "sub-departments first" in with_children.get_data(as_text=True)
    with_users = post(admin, csrf, f"/admin/departments/{org.departments['west'].id}/delete", {})
    assert with_users.status_code == 422 and "Move its users" in with_users.get_data(as_text=True)
    with app.test_request_context():
        archive = orgservice.create_department(system_session, "Archive", org.departments["hq"].id)
    customer = Customer(name="Old customer", owner_id=None, department_id=archive.id)
    system_session.add(customer)
    system_session.commit()
    with_records = post(admin, csrf, f"/admin/departments/{archive.id}/delete", {})
    assert with_records.status_code == 422 and "Records still belong" in with_records.get_data(as_text=True)
    system_session.delete(customer)
    system_session.commit()
    assert post(admin, csrf, f"/admin/departments/{archive.id}/delete", {}).status_code == 302
    assert fresh(system_session).execute(select(Department).where(Department.id == archive.id)).first() is None


# ------------------------------------------------------------------ roles

def grants_of(session, role_id):
    rows = fresh(session).execute(select(RoleGrant).where(RoleGrant.role_id == role_id).execution_options(
        populate_existing=True)).scalars()
    return {g.permission: g.level for g in rows}


def test_role_grid_round_trip(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    response = post(admin, csrf, "/admin/roles", {"name": "Key account team", "description": "KA"})
    assert response.status_code == 302
    role = fresh(system_session).execute(select(Role).where(Role.name == "Key account team")).scalar_one()
    assert not role.is_stock and response.headers["Location"].endswith(f"/admin/roles/{role.id}")
    grid = admin.get(f"/admin/roles/{role.id}").get_data(as_text=True)
    assert 'name="grant__core.customer.view"' in grid and 'name="grant__core.admin.modules"' in grid
    assert "Module: core" in grid
    saved = post(admin, csrf, f"/admin/roles/{role.id}", {
        "name": "Key accounts", "description": "KA", "grant__core.customer.view": "team",
        "grant__core.contact.view": "own", "grant__core.product.view": "all", "grant__core.admin.users": "none"})
    assert saved.status_code == 302
    assert grants_of(system_session, role.id) == {"core.customer.view": "team", "core.contact.view": "own",
                                                  "core.product.view": "all"}
    # unscoped permissions know only none/all; the error sits next to the permission and nothing changes
    wrong = post(admin, csrf, f"/admin/roles/{role.id}", {"name": "Key accounts",
                                                           "grant__core.admin.users": "team",
                                                           "grant__core.customer.view": "all"})
    assert wrong.status_code == 422
    assert "Not a valid level for this permission." in wrong.get_data(as_text=True)
    assert grants_of(system_session, role.id)["core.customer.view"] == "team"


def test_duplicate_role_name_is_refused(app, org, client_as, csrf):
    admin = client_as(org.admin)
    response = post(admin, csrf, "/admin/roles", {"name": "salesperson"})
    assert response.status_code == 422 and "Another role has this name." in response.get_data(as_text=True)


def test_stock_roles_are_editable_but_not_deletable(app, org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    service = fresh(system_session).execute(select(Role).where(Role.key == "service")).scalar_one()
    form = {f"grant__{p}": lvl for p, lvl in grants_of(system_session, service.id).items()}
    saved = post(admin, csrf, f"/admin/roles/{service.id}", {**form, "grant__core.followup.view": "team"})
    assert saved.status_code == 302
    assert grants_of(system_session, service.id)["core.followup.view"] == "team"
    refused = post(admin, csrf, f"/admin/roles/{service.id}/delete", {})
    assert refused.status_code == 422 and "Stock roles cannot be deleted." in refused.get_data(as_text=True)


def test_custom_roles_in_use_are_not_deletable(app, org, client_as, csrf, system_session):
    with app.test_request_context():
        role = orgservice.create_role(system_session, "Interns", grants={"core.customer.view": "own"})
        orgservice.update_user(system_session, org.rep_west.id, {"role_ids": [
            *(r.id for r in org.rep_west.roles), role.id]})
    admin = client_as(org.admin)
    in_use = post(admin, csrf, f"/admin/roles/{role.id}/delete", {})
    assert in_use.status_code == 422 and "Users still hold this role" in in_use.get_data(as_text=True)
    with app.test_request_context():
        salesperson = fresh(system_session).execute(select(Role).where(Role.key == "salesperson")).scalar_one()
        orgservice.update_user(system_session, org.rep_west.id, {"role_ids": [salesperson.id]})
    assert post(admin, csrf, f"/admin/roles/{role.id}/delete", {}).status_code == 302
    assert fresh(system_session).execute(select(Role).where(Role.id == role.id)).first() is None


def test_nobody_grants_beyond_his_own_level(app, gx, org, system_session):
    with app.test_request_context():
        limited = orgservice.create_role(system_session, "Role keeper", grants={
            "core.admin.roles": "all", "core.customer.view": "team"})
        target = orgservice.create_role(system_session, "Target", grants={"core.customer.view": "own"})
        user = fresh(system_session).execute(select(User).where(User.id == org.manager_west.id)).scalar_one()
        user.roles = [limited]
        system_session.commit()
        with session_as(gx, org.manager_west) as session:
            orgservice.update_role(session, target.id, grants={"core.customer.view": "team"})
            for grants in ({"core.customer.view": "all"}, {"core.product.cost": "all"}):
                with pytest.raises(ValidationError) as refused:
                    orgservice.update_role(session, target.id, grants=grants)
                assert "beyond your own level" in str(next(iter(refused.value.messages.values()))[0])
                session.rollback()
    assert grants_of(system_session, target.id) == {"core.customer.view": "team"}


# ------------------------------------------------------------------ modules

def test_modules_page_lists_modules_and_stores_the_switch(app, org, app_with, client_as, csrf, system_session):
    import plugin_samples.good as sample
    with_module = app_with(plugins=[("sample", sample)])
    admin = client_as(org.admin, with_module)
    page = admin.get("/admin/modules").get_data(as_text=True)
    assert 'id="module-sample"' in page and "cli_commands" in page
    assert "No licence file is configured" in page and "applies when the application servers restart" in page
    assert post(admin, csrf, "/admin/modules/sample", {"enabled": "0"}).status_code == 302
    state = fresh(system_session).execute(select(ModuleState).where(ModuleState.name == "sample")).scalar_one()
    assert state.enabled is False
    assert "restart needed" in admin.get("/admin/modules").get_data(as_text=True)
    assert post(admin, csrf, "/admin/modules/sample", {"enabled": "1"}).status_code == 302
    assert fresh(system_session).execute(select(ModuleState.enabled).where(ModuleState.name == "sample")).scalar_one()
    for unknown in ("core", "no_such_module"):
        refused = post(admin, csrf, f"/admin/modules/{unknown}", {"enabled": "0"})
        assert refused.status_code == 422 and "Unknown module." in refused.get_data(as_text=True)
