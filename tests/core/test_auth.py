"""Authentication: login, sessions (SECURITY.md 16), throttling (19), password policy and storage (20)."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

import core.auth
from core.models import LoginThrottle, User, UserSession
from core.passwords import hash_password, needs_rehash, policy_errors, verify_password
from core.testing import TEST_PASSWORD


def _token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client, login_name, password=TEST_PASSWORD):
    return client.post("/login", data={"login": login_name, "password": password, "csrf_token": _token(client)})


def session_cookie(client):
    cookie = client.get_cookie("guanxi")
    return cookie.value if cookie else None


def test_login_rotates_the_session_and_uses_a_server_side_row(app, org, system_session):
    client = app.test_client()
    client.get("/login")
    before = session_cookie(client)
    response = login(client, "rep_east")
    assert response.status_code == 302
    after = session_cookie(client)
    assert after and after != before
    rows = system_session.execute(select(UserSession).where(UserSession.user_id == org.rep_east.id)).scalars().all()
    assert len(rows) == 1
    assert len(rows[0].id) == 64  # SHA-256 of a 256-bit random token; the token itself is never stored
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_account_answer_alike(app, org):
    client = app.test_client()
    wrong = login(client, "rep_east", "not-the-password-123")
    unknown = login(client, "nobody-here", "not-the-password-123")
    assert wrong.status_code == unknown.status_code == 401
    text_wrong = wrong.get_data(as_text=True)
    assert "Wrong login or password." in text_wrong
    assert "Wrong login or password." in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in(app, org):
    assert login(app.test_client(), "deactivated").status_code == 401


def test_logout_kills_the_server_side_session(app, org):
    client = app.test_client()
    login(client, "rep_east")
    stolen = session_cookie(client)
    response = client.post("/logout", data={"csrf_token": _token(client, "/")})
    assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie("guanxi", stolen)
    assert replay.get("/").status_code == 302  # the old cookie is worthless now


def test_logout_needs_post_and_csrf(app, org):
    client = app.test_client()
    login(client, "rep_east")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_deactivation_ends_existing_sessions(app, org, system_session):
    client = app.test_client()
    login(client, "rep_east")
    assert client.get("/").status_code == 200
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.active = False
    system_session.commit()
    assert client.get("/").status_code == 302


def test_idle_and_absolute_timeouts(app, org, monkeypatch):
    client = app.test_client()
    login(client, "rep_east")
    now = dt.datetime.now(dt.timezone.utc)
    idle = int(app.config["SESSION_IDLE_MINUTES"])
    monkeypatch.setattr(core.auth, "utcnow", lambda: now + dt.timedelta(minutes=idle - 1))
    assert client.get("/").status_code == 200  # still fresh; last_seen moves forward
    monkeypatch.setattr(core.auth, "utcnow", lambda: now + dt.timedelta(minutes=2 * idle + 1))
    assert client.get("/").status_code == 302  # idle too long

    client2 = app.test_client()
    monkeypatch.setattr(core.auth, "utcnow", lambda: dt.datetime.now(dt.timezone.utc))
    login(client2, "rep_east")
    absolute = int(app.config["SESSION_ABSOLUTE_MINUTES"])
    step = dt.timedelta(minutes=idle - 5)
    moment = dt.datetime.now(dt.timezone.utc)
    # keep the session busy (never idle) until past the absolute lifetime
    while moment < dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=absolute - idle):
        moment += step
        monkeypatch.setattr(core.auth, "utcnow", lambda m=moment: m)
        assert client2.get("/").status_code == 200
    monkeypatch.setattr(core.auth, "utcnow", lambda: moment + dt.timedelta(minutes=idle))
    assert client2.get("/").status_code == 302


def test_password_change_can_end_other_sessions(app, org, system_session):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "rep_east")
    login(phone, "rep_east")
    with app.test_request_context("/"):
        from flask import g
        session_db = app.extensions["guanxi"].new_session()
        user = session_db.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
        g.session_token = None
        errors = core.auth.change_password(session_db, user, "wrong current", "a-brand-new-long-passphrase")
        assert set(errors) == {"current_password"}
        errors = core.auth.change_password(session_db, user, TEST_PASSWORD, "a-brand-new-long-passphrase")
        assert errors == {}
        session_db.close()
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    assert login(app.test_client(), "rep_east", "a-brand-new-long-passphrase").status_code == 302


def test_progressive_delay_per_account_and_address(app, org, system_session, monkeypatch):
    client = app.test_client()
    free = int(app.config["LOGIN_FREE_ATTEMPTS"])
    for _ in range(free):
        assert login(client, "boss", "wrong-password-000").status_code == 401
    throttled = login(client, "boss")  # even the right password waits now
    assert throttled.status_code == 401
    assert "Too many failed attempts" in throttled.get_data(as_text=True)
    keys = set(system_session.execute(select(LoginThrottle.key)).scalars())
    assert {"account:boss", "ip:127.0.0.1"} <= keys
    # the delay is bounded and progressive: after it passes, the right password works again
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=int(app.config["LOGIN_MAX_DELAY_SECONDS"]) + 1)
    monkeypatch.setattr(core.auth, "utcnow", lambda: later)
    assert login(client, "boss").status_code == 302


def test_throttle_is_shared_storage_not_process_memory(app, org, system_session):
    """Another app instance (another worker) on the same database sees the same failures."""
    from core.testing.pytest_plugin import make_test_app
    for _ in range(int(app.config["LOGIN_FREE_ATTEMPTS"])):
        login(app.test_client(), "manager_east", "wrong-password-000")
    other = make_test_app(app.config["DATABASE_URL"], app.config["INSTANCE_PATH"])
    try:
        response = login(other.test_client(), "manager_east")
        assert "Too many failed attempts" in response.get_data(as_text=True)
    finally:
        other.extensions["guanxi"].engine.dispose()


def test_open_redirect_is_refused(app, org):
    client = app.test_client()
    token = _token(client)
    response = client.post("/login?next=//evil.example/x", data={"login": "rep_east", "password": TEST_PASSWORD,
                                                                  "csrf_token": token})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


@pytest.mark.parametrize("password,ok", [
    ("short-pass", False),
    ("a" * 12, False),
    ("password1234", False),
    ("zhangsan-rocks-2026", False),  # built from the user's login
    ("correct horse battery staple", True),
    ("长城长城长城长城长城长城很长的密码", True),
    ("the quick brown fox jumps over the lazy dog while 老板 drinks tea!", True),
])
def test_password_policy(password, ok):
    problems = policy_errors(password, context=["zhangsan", "Zhang San", "zhangsan@example.com", "guanxi"])
    assert (problems == []) is ok, problems


def test_hashes_are_argon2id_and_upgraded_on_login(app, org, system_session):
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapl")
    from argon2 import PasswordHasher
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    assert needs_rehash(weak)
    user = system_session.execute(select(User).where(User.id == org.rep_west.id)).scalar_one()
    user.password_hash = weak
    system_session.commit()
    assert login(app.test_client(), "rep_west").status_code == 302
    system_session.expire_all()
    upgraded = system_session.execute(select(User.password_hash).where(User.id == org.rep_west.id)).scalar_one()
    assert upgraded != weak and not needs_rehash(upgraded)


def test_api_ignores_browser_cookies(app, org, client_as):
    browser = client_as(org.boss)
    assert browser.get("/").status_code == 200
    assert browser.get("/api/v1/customer").status_code == 401
