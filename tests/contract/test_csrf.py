"""SECURITY.md 18 and 17: CSRF on every state-changing route, no state change through GET, foreign
origins refused, JSON endpoints refuse form/text content types; security headers on every response."""
import hashlib

from sqlalchemy import inspect, select

from core.db import Base

from tests.contract.test_route_inventory import PUBLIC_ALLOWLIST, _sample_url

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _web_rules(app):
    return [r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/") and r.endpoint != "static"]


def _csrf_exempt(app, endpoint) -> bool:
    """Flask-WTF's own record of ``csrf.exempt(view)``."""
    from core.web import csrf
    view = app.view_functions[endpoint]
    return f"{view.__module__}.{view.__name__}" in csrf._exempt_views


def test_only_public_pages_are_exempt_from_csrf(app):
    exempt = {rule.endpoint for rule in _web_rules(app) if _csrf_exempt(app, rule.endpoint)}
    assert exempt <= PUBLIC_ALLOWLIST, exempt - PUBLIC_ALLOWLIST


def test_every_state_changing_route_requires_a_csrf_token(app, org, client_as):
    boss = client_as(org.admin)
    checked = 0
    for rule in _web_rules(app):
        if _csrf_exempt(app, rule.endpoint):
            continue  # a public form framed by other sites (web-to-lead): honeypot + rate limit instead
        for method in sorted(rule.methods & UNSAFE):
            url = _sample_url(rule)
            missing = boss.open(url, method=method, data={"name": "x"})
            forged = boss.open(url, method=method, data={"name": "x", "csrf_token": "forged-token"})
            assert missing.status_code == 400, (method, url, missing.status_code)
            assert forged.status_code == 400, (method, url, forged.status_code)
            checked += 1
    assert checked >= 10  # the inventory really contains the forms


def test_a_valid_token_from_a_foreign_origin_is_refused(app, org, client_as, csrf, system_session):
    rep = client_as(org.rep_east)
    token = csrf(rep, "/r/customer/new")
    foreign = rep.post("/r/customer/new", data={"name": "跨站", "csrf_token": token},
                       headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 400
    same = rep.post("/r/customer/new", data={"name": "同站", "csrf_token": token},
                    headers={"Origin": "http://localhost"})
    assert same.status_code in (302, 303)
    from core.models import Customer
    names = set(system_session.execute(select(Customer.name)).scalars())
    assert names == {"同站"}


def _database_fingerprint(gx):
    digest = hashlib.sha256()
    with gx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("user_session", "login_throttle") or table.name not in inspect(conn).get_table_names():
                continue  # sessions record "last seen": bookkeeping, not state a GET may change
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{[tuple(map(str, r)) for r in rows]}".encode())
    return digest.hexdigest()


def test_no_get_request_changes_state(app, gx, org, client_as, system_session):
    from core.models import Customer
    system_session.add(Customer(name="GET 测试", owner_id=org.boss.id, department_id=org.boss.department_id))
    system_session.commit()
    boss = client_as(org.admin)
    before = _database_fingerprint(gx)
    for rule in _web_rules(app):
        if "GET" in rule.methods and "logout" not in rule.rule:
            boss.get(_sample_url(rule))
    assert _database_fingerprint(gx) == before


def test_json_api_refuses_form_and_text_bodies(app, org, api_as):
    api = api_as(org.boss)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = api.post("/api/v1/customer", data='{"name": "x"}', headers={"Content-Type": content_type})
        assert response.status_code == 415, content_type


def test_security_headers_and_cookie_flags(app, org, client_as):
    anonymous = app.test_client()
    for path in ("/login", "/static/css/guanxi.css", "/does-not-exist"):
        response = anonymous.get(path)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert "Server" not in response.headers or "Werkzeug" not in response.headers.get("Server", "")
    page = app.test_client().get("/login")
    cookie = page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    logged_in = client_as(org.rep_east).get("/")
    assert logged_in.headers.get("Cache-Control") == "no-store"


def test_secure_deployment_uses_host_prefixed_secure_cookies(app_with, org):
    secure = app_with(SESSION_COOKIE_SECURE=True)
    client = secure.test_client()
    response = client.get("/login", base_url="https://localhost")
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-guanxi=") and "Secure" in cookie
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")
