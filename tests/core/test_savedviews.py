"""Saved list views: save, apply, delete; sharing with a role or a department subtree; validation; scope."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from core.models import Customer, Role
from core.testing import csrf_token
from core.savedviews.models import SavedView


@pytest.fixture
def customers(org, system_session):
    rows = [Customer(name=name, status=status, owner_id=owner.id, department_id=owner.department_id)
            for name, status, owner in (("East Closed", "closed", org.rep_east),
                                        ("East Open", "potential", org.rep_east),
                                        ("West Closed", "closed", org.rep_west))]
    system_session.add_all(rows)
    system_session.commit()
    return {c.name: c.id for c in rows}


def save_view(client, csrf, name, query, entity="customer"):
    return client.post(f"/views/{entity}/", data={"csrf_token": csrf(client), "name": name, "query": query})


def views_in_menu(html) -> dict:
    menu = html[html.index('id="saved-views"'):html.index('id="save-view-form"')]
    return {name.strip(): int(view_id) for view_id, name in
            re.findall(r'data-view-id="(\d+)">([^<]+)<', menu)}


def stored(session, name):
    session.rollback()  # a fresh snapshot (MariaDB repeatable read)
    session.expire_all()
    return session.execute(select(SavedView).where(SavedView.name == name)).scalar_one_or_none()


def follow(client, url):
    """Apply a view (a POST: it also sets the viewer's columns) and open the list it leads to."""
    response = client.post(url, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.status_code
    return response.headers["Location"], client.get(response.headers["Location"]).get_data(as_text=True)


def test_save_apply_and_delete_a_view(org, client_as, csrf, customers, system_session):
    client = client_as(org.rep_east)
    response = save_view(client, csrf, "Closed deals", "f_status=closed&sort=name&q=East&cursor=abc")
    assert response.status_code == 302
    view = stored(system_session, "Closed deals")
    assert dict(parse_qsl(view.query)) == {"f_status": "closed", "sort": "name", "q": "East"}  # no page state
    assert (view.user_id, view.entity) == (org.rep_east.id, "customer")

    listing = client.get("/r/customer/").get_data(as_text=True)
    assert views_in_menu(listing) == {"Closed deals": view.id}

    location, html = follow(client, f"/views/customer/{view.id}")
    assert dict(parse_qsl(urlsplit(location).query)) == {"f_status": "closed", "sort": "name", "q": "East",
                                                         "view": str(view.id)}
    assert "East Closed" in html and "East Open" not in html

    # saving under the same name replaces the query
    save_view(client, csrf, "Closed deals", "f_status=potential")
    assert stored(system_session, "Closed deals").query == "f_status=potential"

    other = client_as(org.rep_east_sub)
    assert other.post(f"/views/customer/{view.id}", data={"csrf_token": csrf(other)}).status_code == 404
    assert other.post(f"/views/customer/{view.id}/delete", data={"csrf_token": csrf(other)}).status_code == 404
    assert client.post(f"/views/customer/{view.id}/delete", data={"csrf_token": csrf(client)}).status_code == 302
    assert stored(system_session, "Closed deals") is None


@pytest.mark.parametrize("query", [
    "f_password_hash=x",  # not a filter of the list
    "sort=password_hash",  # not a sort key
    "f_status=' OR 1=1 --",  # not one of the choices
    "f_owner_id=abc",  # not an id
    "limit=lots",
    "q=a&q=b",  # repeated
    "no-equals-sign",
    "f_status=closed&" + "x" * 2100,  # too long
])
def test_invalid_list_states_are_refused(org, client_as, csrf, query, system_session):
    client = client_as(org.rep_east)
    response = save_view(client, csrf, "Bad", query)
    assert response.status_code == 302
    assert stored(system_session, "Bad") is None
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'class="alert alert-danger" role="alert">The list state', html)  # the flashed reason


def test_an_invalid_stored_view_is_not_applied(org, client_as, system_session):
    view = SavedView(user_id=org.rep_east.id, entity="customer", name="Stale", query="f_retired_field=1")
    system_session.add(view)
    system_session.commit()
    client = client_as(org.rep_east)
    location, html = follow(client, f"/views/customer/{view.id}")
    assert urlsplit(location).query == ""
    assert "no longer fits this list" in html
    wrong_entity = client.post(f"/views/contact/{view.id}", data={"csrf_token": csrf_token(client)})
    assert wrong_entity.status_code == 404  # a customer view is not a contact view


def share(client, csrf, view_id, role_id="", department_id=""):
    return client.post(f"/views/customer/{view_id}/share", data={
        "csrf_token": csrf(client), "role_id": str(role_id), "department_id": str(department_id)})


def test_admin_shares_a_view_with_a_role(org, client_as, csrf, customers, system_session):
    admin = client_as(org.admin)
    save_view(admin, csrf, "All closed", "f_status=closed")
    view = stored(system_session, "All closed")
    salesperson = system_session.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    assert share(admin, csrf, view.id, role_id=salesperson.id).status_code == 302
    assert stored(system_session, "All closed").role_id == salesperson.id

    for rep in (org.rep_east, org.rep_west):
        assert "All closed" in views_in_menu(client_as(rep).get("/r/customer/").get_data(as_text=True))
    assert "All closed" not in views_in_menu(client_as(org.manager_east).get("/r/customer/").get_data(as_text=True))

    # applying the shared view still runs in the viewer's own scope
    _location, html = follow(client_as(org.rep_west), f"/views/customer/{view.id}")
    assert "West Closed" in html and "East Closed" not in html
    # and the viewer may use it but not change or delete it
    rep = client_as(org.rep_west)
    assert rep.post(f"/views/customer/{view.id}/delete", data={"csrf_token": csrf(rep)}).status_code == 404


def test_a_view_shared_with_a_department_reaches_its_subtree(org, client_as, csrf, customers, system_session):
    admin = client_as(org.admin)
    save_view(admin, csrf, "East view", f"f_owner_id={org.rep_east.id}")
    view = stored(system_session, "East view")
    share(admin, csrf, view.id, department_id=org.departments["east"].id)
    for user, sees in ((org.manager_east, True), (org.rep_east_sub, True), (org.rep_west, False),
                       (org.boss, False)):
        html = client_as(user).get("/r/customer/").get_data(as_text=True)
        assert ("East view" in views_in_menu(html)) is sees, user.login
    # rep_east_sub filters on rep_east's records but sees none of them: not in his scope
    _location, html = follow(client_as(org.rep_east_sub), f"/views/customer/{view.id}")
    assert "East Closed" not in html and "East Open" not in html

    assert share(admin, csrf, view.id).status_code == 302  # unshare
    assert "East view" not in views_in_menu(client_as(org.rep_east_sub).get("/r/customer/").get_data(as_text=True))


def test_only_view_administrators_share(org, client_as, csrf, system_session):
    rep = client_as(org.rep_east)
    save_view(rep, csrf, "Mine", "f_status=closed")
    view = stored(system_session, "Mine")
    assert share(rep, csrf, view.id, department_id=org.departments["hq"].id).status_code == 403
    assert stored(system_session, "Mine").department_id is None
    admin = client_as(org.admin)
    assert share(admin, csrf, view.id, department_id=org.departments["hq"].id).status_code == 404  # not visible
    response = share(admin, csrf, 999999)
    assert response.status_code == 404
    save_view(admin, csrf, "Admin's", "")
    bad = share(admin, csrf, stored(system_session, "Admin's").id, role_id=987654)
    assert bad.status_code == 302 and stored(system_session, "Admin's").role_id is None


def test_manage_page_lists_own_and_shared_views(org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    save_view(admin, csrf, "Shared one", "f_status=closed")
    share(admin, csrf, stored(system_session, "Shared one").id, department_id=org.departments["hq"].id)
    rep = client_as(org.rep_west)
    save_view(rep, csrf, "My own", "sort=name")
    html = rep.get("/views/customer/").get_data(as_text=True)
    assert "Shared one" in html and "My own" in html and "Shared with you" in html
    assert 'action="/views/customer/' in html and "/share" not in html  # no sharing form for a salesperson
    assert client_as(org.procurement).get("/views/customer/").status_code == 403


def columns_of(html):
    return re.findall(r'<th scope="col" data-column="(\w+)"', html)


def test_a_view_keeps_the_columns_and_applying_it_sets_them_for_the_viewer(org, client_as, csrf, customers,
                                                                           system_session):
    admin = client_as(org.admin)
    admin.post("/r/customer/columns", data={"csrf_token": csrf(admin), "columns": ["city", "name", "phone"]})
    assert columns_of(admin.get("/r/customer/").get_data(as_text=True)) == ["city", "name", "phone"]
    save_view(admin, csrf, "Phone list", "sort=name")
    view = stored(system_session, "Phone list")
    assert view.columns == ["city", "name", "phone"]
    share(admin, csrf, view.id, department_id=org.departments["hq"].id)

    rep = client_as(org.rep_west)
    assert columns_of(rep.get("/r/customer/").get_data(as_text=True)) != ["city", "name", "phone"]
    _location, html = follow(rep, f"/views/customer/{view.id}")
    assert columns_of(html) == ["city", "name", "phone"]
    assert columns_of(rep.get("/r/customer/").get_data(as_text=True)) == ["city", "name", "phone"]  # kept


def test_a_shared_view_never_shows_a_column_the_viewer_may_not_see(org, client_as, csrf, system_session):
    admin = client_as(org.admin)
    admin.post("/r/product/columns", data={"csrf_token": csrf(admin), "columns": ["name", "cost", "price"]})
    save_view(admin, csrf, "Margins", "sort=price", entity="product")
    view = stored(system_session, "Margins")
    salesperson = system_session.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    admin.post(f"/views/product/{view.id}/share", data={"csrf_token": csrf(admin), "role_id": salesperson.id})
    rep = client_as(org.rep_east)
    response = rep.post(f"/views/product/{view.id}", data={"csrf_token": csrf(rep)})
    html = rep.get(response.headers["Location"]).get_data(as_text=True)
    assert columns_of(html) == ["name", "price"]
