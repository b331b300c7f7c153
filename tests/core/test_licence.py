"""Licences (DESIGN.md §2): Ed25519-signed files naming licensee, modules, seats and expiry; unlicensed
modules never load; the seats limit the number of active users."""
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from marshmallow import ValidationError
from sqlalchemy import func, select

import plugin_samples
from core import licence, orgservice
from core.models import Role, User
from core.testing import TEST_PASSWORD

TODAY = dt.date(2030, 6, 1)


@pytest.fixture(scope="module")
def vendor_key():
    return Ed25519PrivateKey.generate()


def payload(**overrides):
    return {"licensee": "华宏贸易 Huahong", "modules": ["good"], "seats": 5, "expires": "2030-12-31", **overrides}


def test_signed_licence_verifies(vendor_key):
    found = licence.verify(licence.sign(payload(), vendor_key), [licence.public_key_b64(vendor_key)], today=TODAY)
    assert found.valid, found.problem
    assert (found.licensee, found.modules, found.seats, found.expires) == (
        "华宏贸易 Huahong", ["good"], 5, dt.date(2030, 12, 31))
    assert found.allows("good") and not found.allows("other")


def test_tampered_licence_is_refused(vendor_key):
    document = licence.sign(payload(), vendor_key)
    document["payload"]["seats"] = 500
    found = licence.verify(document, [licence.public_key_b64(vendor_key)], today=TODAY)
    assert not found.valid and "does not match" in found.problem
    assert not found.allows("good")


def test_expired_licence_is_refused(vendor_key):
    document = licence.sign(payload(expires="2030-05-31"), vendor_key)
    found = licence.verify(document, [licence.public_key_b64(vendor_key)], today=TODAY)
    assert not found.valid and found.problem == "licence expired on 2030-05-31"


def test_licence_of_another_vendor_is_refused(vendor_key):
    document = licence.sign(payload(), Ed25519PrivateKey.generate())
    found = licence.verify(document, [licence.public_key_b64(vendor_key)], today=TODAY)
    assert not found.valid and "does not match any vendor key" in found.problem


def test_any_configured_vendor_key_may_sign(vendor_key):
    other = licence.public_key_b64(Ed25519PrivateKey.generate())
    found = licence.verify(licence.sign(payload(), vendor_key), [other, licence.public_key_b64(vendor_key)],
                           today=TODAY)
    assert found.valid


def test_licence_without_configured_key_is_refused(vendor_key):
    found = licence.verify(licence.sign(payload(), vendor_key), [], today=TODAY)
    assert not found.valid and "no vendor public key" in found.problem


def test_unreadable_files_are_reported(tmp_path):
    assert licence.load(None, []) is None  # no licence configured: the open-source default
    assert "cannot read" in licence.load(str(tmp_path / "missing.json"), []).problem
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    assert licence.load(str(garbage), []).problem == "licence file is not JSON"


def write_licence(tmp_path, key, **fields):
    path = tmp_path / "guanxi-licence.json"
    path.write_text(json.dumps(licence.sign(payload(**fields), key)))
    return {"LICENSE_FILE": str(path), "VENDOR_PUBLIC_KEYS": licence.public_key_b64(key)}


def test_app_blocks_a_module_the_licence_does_not_name(app, monkeypatch, tmp_path, vendor_key, app_with):
    plugin_samples.install(monkeypatch, "good", "blocked")
    licensed_app = app_with(**write_licence(tmp_path, vendor_key, modules=["good"], expires="2999-01-01"))
    modules = licensed_app.extensions["guanxi"].modules
    assert modules["good"].loaded
    assert not modules["blocked"].loaded and modules["blocked"].reason == "not in the licence"
    assert not plugin_samples.imported("blocked")


def test_expired_licence_blocks_every_module(app, monkeypatch, tmp_path, vendor_key, app_with):
    plugin_samples.install(monkeypatch, "good")
    expired_app = app_with(**write_licence(tmp_path, vendor_key, modules=["*"], expires="2001-01-01"))
    info = expired_app.extensions["guanxi"].modules["good"]
    assert not info.loaded and info.reason == "licence expired on 2001-01-01"


@pytest.fixture
def seated_app(app, org, tmp_path, vendor_key, app_with):
    """An app whose licence allows exactly the org's active users."""
    with app.extensions["guanxi"].system_session("test") as s:
        active = s.execute(select(func.count(User.id)).where(User.active.is_(True))).scalar_one()
    return app_with(**write_licence(tmp_path, vendor_key, modules=["*"], seats=active, expires="2999-01-01"))


def new_user(login, active=True):
    return {"login": login, "name": f"Seat {login}", "password": TEST_PASSWORD, "active": active}


def test_seats_limit_active_users(seated_app, org):
    gx = seated_app.extensions["guanxi"]
    with seated_app.test_request_context(), gx.system_session("test") as s:
        with pytest.raises(ValidationError) as refused:
            orgservice.create_user(s, new_user("one_too_many"))
        assert "all seats are taken" in str(refused.value.messages["active"][0])
        s.rollback()
        parked = orgservice.create_user(s, new_user("parked", active=False))  # inactive users take no seat
        with pytest.raises(ValidationError):
            orgservice.reactivate_user(s, parked.id)
        s.rollback()
        orgservice.deactivate_user(s, org.rep_west.id)
        orgservice.reactivate_user(s, parked.id)  # the freed seat can be used
        with pytest.raises(ValidationError):
            orgservice.reactivate_user(s, org.rep_west.id)
        s.rollback()
        assert s.execute(select(func.count(User.id)).where(User.active.is_(True))).scalar_one() == \
            gx.licence.seats


def test_seats_shown_and_enforced_on_the_pages(seated_app, org, client_as, csrf):
    admin = client_as(org.admin, seated_app)
    page = admin.get("/admin/modules").get_data(as_text=True)
    assert "9 of 9 used" in page and "华宏贸易 Huahong" in page and "The licence is valid." in page
    with seated_app.app_context(), seated_app.extensions["guanxi"].system_session("t") as s:
        rep_role = s.execute(select(Role).where(Role.key == "salesperson")).scalar_one()
    response = admin.post("/admin/users/new", data={
        **new_user("page_seat"), "active": "1", "role_ids": [rep_role.id], "csrf_token": csrf(admin)})
    assert response.status_code == 422
    assert "all seats are taken" in response.get_data(as_text=True)
