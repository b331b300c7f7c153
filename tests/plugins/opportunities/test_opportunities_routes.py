"""The contract checks of tests/contract (declarations, anonymous refusal, CSRF, no state change on GET)
applied to this module's routes alone, so that they keep guarding them whatever other modules do."""
from __future__ import annotations

from sqlalchemy import func, select

from plugins.opportunities.models import Opportunity, OpportunityStage, OpportunityStageHistory
from tests.contract.test_route_inventory import _declared, _sample_url

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("opportunities.")]


def test_routes_are_declared_and_refuse_anonymous_clients(app):
    rules = _rules(app)
    assert len(rules) >= 8
    client = app.test_client()
    for rule in rules:
        access = _declared(app, rule.endpoint)
        assert access is not None and access[0] in ("permission", "login"), rule.endpoint
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_sample_url(rule), method=method)
            if method == "GET":
                assert response.status_code == 302 and "/login" in response.headers["Location"], rule
            else:
                assert response.status_code in (302, 400), rule


def test_state_changing_routes_need_the_csrf_token(app, org, client_as, stages, opportunity_of):
    record = opportunity_of(org.rep_east, "CSRF")
    admin = client_as(org.admin)
    checked = 0
    for rule in _rules(app):
        for method in sorted(rule.methods & UNSAFE):
            url = _sample_url(rule).replace("/1/", f"/{record.id}/")
            assert admin.open(url, method=method, data={"stage_id": "1"}).status_code == 400, url
            assert admin.open(url, method=method, data={"stage_id": "1", "csrf_token": "forged"}).status_code == 400
            checked += 1
    assert checked == 4


def test_get_requests_change_nothing(app, org, client_as, stages, opportunity_of, system_session):
    record = opportunity_of(org.rep_east, "GET")

    def state():
        system_session.rollback()  # end the snapshot (MariaDB reads repeatably within one)
        system_session.expire_all()
        return [system_session.execute(select(func.count()).select_from(model)).scalar()
                for model in (Opportunity, OpportunityStage, OpportunityStageHistory)] + [
            system_session.execute(select(Opportunity.version)).scalars().all()]

    before = state()
    admin = client_as(org.admin)
    for rule in _rules(app):
        if "GET" in rule.methods:
            admin.get(_sample_url(rule).replace("/1/", f"/{record.id}/"))
    assert state() == before


def test_users_without_the_permission_are_refused(org, client_as, stages):
    service = client_as(org.service)  # no opportunity permission at all
    for url in ("/opportunities/board", "/opportunities/forecast", "/opportunities/stages", "/r/opportunity/"):
        assert service.get(url).status_code in (403, 404), url
