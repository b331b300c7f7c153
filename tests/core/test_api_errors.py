"""REST API protocol: token-only authentication, JSON-only bodies, strict query parameters, out-of-range
ids and values, and JSON errors that never leak internals (SECURITY.md A6, C18, F29, G33)."""
import base64
import json

import pytest
from sqlalchemy import func, select

from core import services
from core.models import Customer


def make_customer(session, owner, name="Acme"):
    customer = Customer(name=name, owner_id=owner.id, department_id=owner.department_id)
    session.add(customer)
    session.commit()
    return customer


def cursor_of(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code and body["message"]
    return body


def test_no_token_or_a_bad_token_is_401(app, org):
    client = app.test_client()
    assert_error(client.get("/api/v1/customer"), 401, "unauthorized")
    assert_error(client.post("/api/v1/customer", json={"name": "X"}), 401, "unauthorized")
    bad = {"Authorization": "Bearer gx_not-a-real-token"}
    assert_error(client.get("/api/v1/customer", headers=bad), 401, "unauthorized")
    assert_error(client.get("/api/v1/users", headers={"Authorization": "Basic Ym9zczpib3Nz"}), 401, "unauthorized")


def test_deactivated_users_token_is_401(app, org, api_as):
    assert_error(api_as(org.deactivated).get("/api/v1/customer"), 401, "unauthorized")


def test_browser_session_cookie_does_not_authenticate_the_api(app, org, client_as, system_session):
    make_customer(system_session, org.boss)
    browser = client_as(org.boss)
    assert_error(browser.get("/api/v1/customer"), 401, "unauthorized")
    assert_error(browser.post("/api/v1/customer", json={"name": "CSRF"}), 401, "unauthorized")
    assert system_session.execute(select(func.count(Customer.id))).scalar_one() == 1


@pytest.mark.parametrize("kwargs", [
    {"data": '{"name": "X"}', "content_type": "text/plain"},
    {"data": {"name": "X"}},  # form encoded
    {"data": '{"name": "X"}'},  # no content type at all
])
def test_non_json_bodies_are_415(app, org, api_as, system_session, kwargs):
    rep = api_as(org.rep_east)
    assert_error(rep.post("/api/v1/customer", **kwargs), 415, "unsupported_media_type")
    mine = make_customer(system_session, org.rep_east)
    assert_error(rep.patch(f"/api/v1/customer/{mine.id}", **kwargs), 415, "unsupported_media_type")
    assert system_session.execute(select(func.count(Customer.id))).scalar_one() == 1


def test_malformed_json_is_400_and_a_non_object_is_422(app, org, api_as):
    rep = api_as(org.rep_east)
    assert_error(rep.post("/api/v1/customer", data="{name:", content_type="application/json"), 400, "bad_request")
    assert_error(rep.post("/api/v1/customer", json=["name"]), 422, "validation_failed")


def test_oversized_body_is_413(app, org, api_as, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = api_as(org.rep_east).post("/api/v1/customer", json={"name": "x", "notes": "n" * 5000})
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("query, field", [
    ("colour=red", "colour"), ("f_status=closed", "f_status"), ("status=closed&status=potential", "status"),
    ("limit=0", "limit"), ("limit=10000", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"),
    ("limit=%C2%B2", "limit"), ("limit=" + "1" * 5000, "limit"), ("owner_id=" + "9" * 5000, "owner_id"),
    ("sort=phone", "sort"), ("sort=--name", "sort"), ("owner_id=99999999999999999999", "owner_id"),
    ("q=" + "x" * 201, "q"), ("q=a%00b", "q"), ("cursor=%%%", "cursor"),
    ("cursor=" + cursor_of([None, "1 OR 1=1"]), "cursor"), ("cursor=" + cursor_of([None, 2**64]), "cursor"),
    ("sort=name&cursor=" + cursor_of([{"a": 1}, 3]), "cursor"),
    ("sort=updated_at&cursor=" + cursor_of(["not a date", 3]), "cursor"),
])
def test_bad_query_parameters_are_400(app, org, api_as, query, field):
    body = assert_error(api_as(org.boss).get(f"/api/v1/customer?{query}"), 400, "bad_request")
    assert field in body["fields"], body


def test_price_cursor_with_a_nonsense_value_is_400(app, org, api_as):
    boss = api_as(org.boss)
    body = assert_error(boss.get("/api/v1/product?sort=price&cursor=" + cursor_of(["NaN-ish", 1])), 400,
                        "bad_request")
    assert "cursor" in body["fields"]
    assert boss.get("/api/v1/product?limit=200").status_code == 200


@pytest.mark.parametrize("record_id", [2**31, 2**63, 2**64, 10**30, int("9" * 4000)])
def test_huge_ids_are_404_not_500(app, org, api_as, record_id):
    boss = api_as(org.boss)
    for method, kwargs in (("get", {}), ("patch", {"json": {"name": "X"}}), ("delete", {})):
        assert_error(getattr(boss, method)(f"/api/v1/customer/{record_id}", **kwargs), 404, "not_found")
    assert_error(boss.get(f"/api/v1/users/{record_id}"), 404, "not_found")


def test_huge_numbers_in_a_body_are_422(app, org, api_as, system_session):
    rep = api_as(org.rep_east)
    body = assert_error(rep.post("/api/v1/contact", json={"name": "X", "customer_id": 2**70}), 422,
                        "validation_failed")
    assert "customer_id" in body["fields"]
    mine = make_customer(system_session, org.rep_east)
    body = assert_error(rep.patch(f"/api/v1/customer/{mine.id}", json={"version": 2**63}), 422, "validation_failed")
    assert "version" in body["fields"]


def test_unknown_entities_and_urls_answer_json_404_and_405(app, org, api_as):
    boss = api_as(org.boss)
    assert_error(boss.get("/api/v1/no_such_entity"), 404, "not_found")
    assert_error(boss.get("/api/v1/no_such_entity/1"), 404, "not_found")
    assert_error(boss.get("/api/v1/customer/abc"), 404, "not_found")
    assert_error(boss.get("/api/v2/customer"), 404, "not_found")
    response = boss.put("/api/v1/customer/1", json={})
    assert_error(response, 405, "method_not_allowed")
    assert "PATCH" in response.headers["Allow"]


def test_other_paths_keep_their_own_error_pages(app):
    response = app.test_client().get("/no-such-page-anywhere")
    assert response.status_code == 404 and response.mimetype != "application/json"


def test_internal_errors_do_not_leak(app, org, api_as, system_session, monkeypatch):
    mine = make_customer(system_session, org.rep_east)

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT password_hash FROM user_account -- secret detail")

    monkeypatch.setattr(services, "get", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = api_as(org.rep_east).get(f"/api/v1/customer/{mine.id}")
    assert_error(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "SELECT" not in text and "secret" not in text and "Traceback" not in text


@pytest.mark.parametrize("payload, field", [
    ({"price": "1e30"}, "price"), ({"price": "1e17"}, "price"), ({"price": "NaN"}, "price"),
    ({"price": "Infinity"}, "price"), ({"code": "C" * 41}, "code"),
])
def test_values_a_column_cannot_hold_are_422_everywhere(app, org, api_as, system_session, payload, field):
    body = assert_error(api_as(org.boss).post("/api/v1/product", json={"code": "P", "name": "N", **payload}),
                        422, "validation_failed")
    assert field in body["fields"]


def test_field_messages_are_always_lists_of_text(app, org, api_as):
    rep = api_as(org.rep_east)
    body = assert_error(rep.post("/api/v1/customer", json={"name": "x", "tags": "vip"}), 422, "validation_failed")
    assert body["fields"] == {"tags": ["Not a valid list."]}
    body = assert_error(rep.post("/api/v1/customer", json={"name": "x", "tags": ["ok", "y" * 51]}), 422,
                        "validation_failed")
    assert body["fields"] == {"tags": ["1: Between 1 and 50 characters."]}
