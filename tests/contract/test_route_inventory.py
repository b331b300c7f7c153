"""SECURITY.md 6: every endpoint carries an access declaration; non-public ones refuse anonymous clients
(401 / redirect to login) and users without the permission (403/404)."""
import re

import pytest

PUBLIC_ALLOWLIST = {"static", "auth.login", "auth.set_language", "api.openapi", "api.docs", "leads.capture"}


def _sample_url(rule):
    url = rule.rule
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        value = "1" if converter in ("IntegerConverter", "NumberConverter") else "customer"
        if arg == "filename":
            value = "css/guanxi.css"
        if arg == "code":
            value = "en"
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", value, url)
    return url


def _declared(app, endpoint):
    view = app.view_functions[endpoint]
    return getattr(view, "_guanxi_access", None)


def test_every_endpoint_is_declared(app):
    undeclared = [rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static" and _declared(app, rule.endpoint) is None]
    assert undeclared == []


def test_public_endpoints_are_exactly_the_allowlist(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint == "static" or (_declared(app, rule.endpoint) or ("",))[0] == "public"}
    assert public <= PUBLIC_ALLOWLIST, public - PUBLIC_ALLOWLIST


def test_anonymous_is_refused_everywhere(app):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ALLOWLIST:
            continue
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if url.startswith("/api/"):
                assert response.status_code == 401, (method, url, response.status_code)
            elif method == "GET":
                assert response.status_code == 302 and "/login" in response.headers["Location"], (url, response.status_code)
            else:  # a state-changing request without a session fails CSRF (400) or auth (302)
                assert response.status_code in (302, 400), (method, url, response.status_code)


def test_permission_endpoints_refuse_users_without_it(app, org, client_as, api_as):
    """A salesperson has no admin, procurement-only or product-edit permission: those routes answer 403/404."""
    rep = client_as(org.rep_east)
    rep_api = api_as(org.rep_east)
    for rule in app.url_map.iter_rules():
        access = _declared(app, rule.endpoint)
        if not access or access[0] != "permission" or "GET" not in rule.methods:
            continue
        permission = access[1]
        if callable(permission):
            continue  # entity routes: covered per entity by the leak matrix
        url = _sample_url(rule)
        from core.scope import build_user_scope
        gx = app.extensions["guanxi"]
        with gx.system_session("test") as s:
            holds = build_user_scope(s, org.rep_east, gx.entities).has(permission)
        if holds:
            continue
        client = rep_api if url.startswith("/api/") else rep
        status = client.get(url).status_code
        assert status in (403, 404), (url, permission, status)
