"""Global search, lookup, dashboard widgets, profile, error pages and the shell around every page."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from core.models import ApiToken, Customer, FollowUp, Product, User, UserSession
from core.testing import TEST_PASSWORD


def make_customer(session, owner, name, **fields):
    record = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, **fields)
    session.add(record)
    session.commit()
    return record


# ---------------------------------------------------------------- search and lookup

def test_global_search_is_grouped_and_scoped(org, client_as, system_session):
    make_customer(system_session, org.rep_east, "Needle East", phone="021-5555")
    make_customer(system_session, org.rep_west, "Needle West")
    system_session.add(Product(code="NEEDLE-1", name="Needle product"))
    system_session.commit()
    html = client_as(org.rep_east).get("/search?q=needle").get_data(as_text=True)
    assert 'data-entity="customer"' in html and 'data-entity="product"' in html
    # the matching part is highlighted: <mark>Needle</mark> East
    assert "</mark> East" in html and "</mark> West" not in html and "</mark> product" in html
    assert "Needle East" in client_as(org.rep_east).get("/search?q=5555").get_data(as_text=True)
    assert "</mark> West" in client_as(org.boss).get("/search?q=needle").get_data(as_text=True)


def test_a_peer_rep_never_sees_the_record_in_list_search_or_export(org, client_as, system_session):
    from core.models import Role, RoleGrant
    make_customer(system_session, org.rep_east, "Eastern Secret")
    make_customer(system_session, org.rep_west, "Western Own")
    role = system_session.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    role.grants.append(RoleGrant(permission="core.customer.export", level="own"))
    system_session.commit()
    west = client_as(org.rep_west)
    assert "Eastern Secret" not in west.get("/r/customer/").get_data(as_text=True)
    assert "Eastern Secret" not in west.get("/search?q=Secret").get_data(as_text=True)
    assert "Eastern Secret" not in west.get("/r/customer/lookup?q=Secret").get_data(as_text=True)
    export = west.get("/r/customer/export.csv").get_data().decode("utf-8-sig")
    assert "Western Own" in export and "Eastern Secret" not in export


def test_search_shows_at_most_ten_per_entity(org, client_as, system_session):
    for i in range(12):
        make_customer(system_session, org.rep_east, f"Many Match {i}")
    html = client_as(org.rep_east).get("/search?q=Many Match").get_data(as_text=True)
    assert len(re.findall(r'href="/r/customer/\d+"', html)) == 10
    assert "Show all" in html
    html = client_as(org.rep_east).get("/search?q=Many Match&entity=customer").get_data(as_text=True)
    assert len(re.findall(r'href="/r/customer/\d+"', html)) == 12 and "Show all" not in html


def test_search_ignores_fields_hidden_from_the_user(org, client_as, system_session, monkeypatch, app):
    spec = app.extensions["guanxi"].entities["product"]  # pretend the category were procurement data
    monkeypatch.setattr(spec, "restricted_fields", {**spec.restricted_fields, "category": "core.product.cost"})
    system_session.add(Product(code="Q-1", name="Quiet", category="Secret supplier 4242"))
    system_session.commit()
    assert "Quiet" not in client_as(org.rep_east).get("/search?q=4242").get_data(as_text=True)
    assert "Quiet" in client_as(org.procurement).get("/search?q=4242").get_data(as_text=True)


def test_lookup_answers_htmx_and_json_within_scope(org, client_as, system_session):
    mine = make_customer(system_session, org.rep_east, "Lookup Mine")
    make_customer(system_session, org.rep_west, "Lookup Theirs")
    client = client_as(org.rep_east)
    data = client.get("/r/customer/lookup?q=Lookup").get_json()
    assert data["items"] == [{"id": mine.id, "title": "Lookup Mine"}]
    html = client.get("/r/customer/lookup?lookup=Lookup", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'<option value="{mine.id}">Lookup Mine</option>' in html and "Theirs" not in html


def test_reference_input_becomes_autocomplete_when_many(org, client_as, system_session, monkeypatch):
    import core.web.pickers as pickers
    monkeypatch.setattr(pickers, "REFERENCE_SELECT_MAX", 2)
    for i in range(3):
        make_customer(system_session, org.rep_east, f"Auto {i}")
    html = client_as(org.rep_east).get("/r/contact/new").get_data(as_text=True)
    assert 'hx-get="/r/customer/lookup"' in html and "Auto 1" not in html


# ---------------------------------------------------------------- dashboard

def test_dashboard_widgets_follow_the_scope(org, client_as, system_session):
    today = dt.date.today()
    east = make_customer(system_session, org.rep_east, "Due Co", status="intention")
    make_customer(system_session, org.rep_west, "West Co", status="intention")
    system_session.add_all([
        FollowUp(content="Call back soon", customer_id=east.id, owner_id=org.rep_east.id,
                 department_id=org.rep_east.department_id, next_follow_up=today - dt.timedelta(days=3),
                 happened_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)),
        FollowUp(content="Not due yet", customer_id=east.id, owner_id=org.rep_east.id,
                 department_id=org.rep_east.department_id, next_follow_up=today + dt.timedelta(days=300),
                 happened_at=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)),
    ])
    system_session.commit()
    html = client_as(org.rep_east).get("/").get_data(as_text=True)
    assert "Call back soon" in html and "Not due yet" not in html
    assert re.search(r'data-count="overdue">1<', html)
    assert re.search(r"data-total>1<", html)
    assert re.search(r"data-total>2<", client_as(org.boss).get("/").get_data(as_text=True))
    assert "Call back soon" not in client_as(org.rep_west).get("/").get_data(as_text=True)


def test_a_later_follow_up_clears_the_reminder(org, client_as, system_session):
    east = make_customer(system_session, org.rep_east, "Done Co")
    common = {"customer_id": east.id, "owner_id": org.rep_east.id, "department_id": org.rep_east.department_id}
    system_session.add_all([
        FollowUp(content="Old promise", next_follow_up=dt.date.today() - dt.timedelta(days=1),
                 happened_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), **common),
        FollowUp(content="Kept it", happened_at=dt.datetime(2020, 2, 1, tzinfo=dt.timezone.utc), **common),
    ])
    system_session.commit()
    assert "Old promise" not in client_as(org.rep_east).get("/").get_data(as_text=True)


def test_procurement_dashboard_has_no_customer_widgets(org, client_as):
    html = client_as(org.procurement).get("/").get_data(as_text=True)
    assert "widget-customers_by_status" not in html and "widget-followups_due" not in html


# ---------------------------------------------------------------- profile

def test_profile_shows_the_user_and_saves_the_language(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    html = client.get("/profile").get_data(as_text=True)
    assert "rep_east" in html and "Zhang San" in html and "East" in html and "Salesperson" in html
    assert 'href="/profile"' in html  # in the user menu
    response = client.post("/profile/language", data={"csrf_token": csrf(client), "language": "zh_CN"})
    assert response.status_code == 302
    system_session.rollback()  # nothing pending: a fresh snapshot (MariaDB repeatable read)
    system_session.expire_all()
    assert system_session.execute(select(User.language).where(User.id == org.rep_east.id)).scalar_one() == "zh_CN"
    assert 'lang="zh-CN"' in client.get("/profile").get_data(as_text=True)
    assert client.post("/profile/language", data={"csrf_token": csrf(client), "language": "xx"}).status_code == 422


def test_password_change_errors_at_the_field(org, client_as, csrf):
    client = client_as(org.rep_east)
    token = csrf(client)
    response = client.post("/profile/password", data={"csrf_token": token, "current_password": "wrong",
                                                      "new_password": "short", "confirm_password": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The current password is wrong." in html.split('id="f-current_password-errors"')[1][:200]
    assert "at least 12" in html.split('id="f-new_password-errors"')[1][:300]
    response = client.post("/profile/password", data={"csrf_token": token, "current_password": TEST_PASSWORD,
                                                      "new_password": "a" * 20, "confirm_password": "b" * 20})
    assert response.status_code == 422
    assert "differ" in response.get_data(as_text=True).split('id="f-confirm_password-errors"')[1][:200]


def test_password_change_can_end_other_sessions(app, org, client_as, csrf, system_session):
    other = client_as(org.rep_east)
    client = client_as(org.rep_east)
    new = "Lantern river morning 2024"
    response = client.post("/profile/password", data={
        "csrf_token": csrf(client), "current_password": TEST_PASSWORD, "new_password": new,
        "confirm_password": new, "end_other_sessions": "on"})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert other.get("/profile").status_code == 302  # logged out
    live = system_session.execute(select(UserSession).where(UserSession.user_id == org.rep_east.id,
                                                            UserSession.revoked_at.is_(None))).scalars().all()
    assert len(live) == 1


def test_api_token_is_shown_once_and_can_be_revoked(org, client_as, csrf, system_session):
    client = client_as(org.rep_east)
    token = csrf(client)
    html = client.post("/profile/tokens", data={"csrf_token": token, "name": "Accounting 会计"}).get_data(as_text=True)
    secret = re.search(r'id="new-token">([^<]+)<', html).group(1)
    assert secret.startswith("gx_")
    page = client.get("/profile").get_data(as_text=True)
    assert secret not in page and secret[:10] in page and "Accounting 会计" in page
    row = system_session.execute(select(ApiToken).where(ApiToken.user_id == org.rep_east.id)).scalar_one()
    other = client_as(org.rep_west)
    assert other.post(f"/profile/tokens/{row.id}/revoke", data={"csrf_token": csrf(other)}).status_code == 404
    assert client.post(f"/profile/tokens/{row.id}/revoke", data={"csrf_token": token}).status_code == 302
    system_session.rollback()  # nothing pending: a fresh snapshot (MariaDB repeatable read)
    system_session.expire_all()
    assert system_session.execute(select(ApiToken.revoked_at).where(ApiToken.id == row.id)).scalar_one() is not None
    assert client.post("/profile/tokens", data={"csrf_token": token, "name": " "}).status_code == 422


# ---------------------------------------------------------------- errors and shell

def test_html_and_api_404(org, client_as):
    client = client_as(org.rep_east)
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Not found" in page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code in (401, 404) and api.is_json and set(api.get_json()) >= {"error", "message"}


def test_403_page_is_html(org, client_as):
    response = client_as(org.rep_east).get("/r/customer/export.csv")
    assert response.status_code == 403 and "Not allowed" in response.get_data(as_text=True)


def test_missing_csrf_token_gets_the_session_expired_page(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east, "Csrf Co")
    response = client_as(org.rep_east).post(f"/r/customer/{customer.id}/delete", data={})
    assert response.status_code == 400
    assert "Your session expired, please reload the form." in response.get_data(as_text=True)
    system_session.rollback()  # nothing pending: a fresh snapshot (MariaDB repeatable read)
    system_session.expire_all()
    assert system_session.execute(select(Customer.deleted_at).where(Customer.id == customer.id)).scalar_one() is None


def test_pages_carry_security_headers_and_no_inline_script(org, client_as, system_session):
    customer = make_customer(system_session, org.rep_east, '<script>alert("x")</script>')
    client = client_as(org.rep_east)
    for url in ("/", "/r/customer/", f"/r/customer/{customer.id}", f"/r/customer/{customer.id}/edit",
                "/search?q=script", "/profile", "/recycle-bin"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert '<script>alert("x")</script>' not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r'\sstyle="', html), url
        assert not re.search(r"\son[a-z]+=", html), url


def test_mobile_shell_has_a_collapsing_navbar_and_responsive_tables(org, client_as, system_session):
    make_customer(system_session, org.rep_east, "Phone Co")
    html = client_as(org.rep_east).get("/r/customer/").get_data(as_text=True)
    assert 'name="viewport"' in html and 'class="collapse navbar-collapse"' in html
    assert 'class="table-responsive"' in html and 'action="/search"' in html


def test_server_errors_get_a_bare_page_without_details(app, org, client_as, monkeypatch):
    def broken(**_kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "web.search", broken)
    response = client_as(org.rep_east).get("/search?q=x")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html and "hunter2" not in html and "RuntimeError" not in html
