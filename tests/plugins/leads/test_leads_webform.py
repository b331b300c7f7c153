"""Web-to-lead: the admin page, and the public form (no CSRF, embeddable, honeypot, rate limit)."""
from __future__ import annotations

import html as htmllib

from sqlalchemy import select

from plugins.leads.models import WebForm, WebFormAttempt
from tests.plugins.leads.leads_helpers import field_errors, leads_of, make_web_form

VISITOR = {"name": "马超 Ma Chao", "company": "西凉马业 Xiliang Horses", "phone": "+86 139 0000 0003",
           "email": "machao@example.com", "notes": "想了解报价 please call"}


def post(client, form, data, ip="203.0.113.7", **headers):
    return client.post(f"/leads/w/{form.token}", data=data, environ_base={"REMOTE_ADDR": ip}, headers=headers)


def test_admin_creates_a_form_and_sees_the_embed_code(org, client_as, csrf, gx, system_session):
    admin = client_as(org.admin)
    token = csrf(admin, "/leads/forms/new")
    missing = admin.post("/leads/forms/new", data={"csrf_token": token, "name": "", "active": "1"})
    assert missing.status_code == 422
    page = missing.get_data(as_text=True)
    assert "This field is required." in field_errors(page, "f-name")
    assert "Choose a department" in field_errors(page, "f-department_id")
    saved = admin.post("/leads/forms/new", data={
        "csrf_token": token, "name": "官网 Website", "department_id": org.departments["east"].id,
        "source": "website", "thank_you": "谢谢 Thanks!", "active": "1"})
    assert saved.status_code == 302
    form = system_session.execute(select(WebForm)).scalar_one()
    assert (form.department_id, form.source, form.active) == (org.departments["east"].id, "website", True)
    assert len(form.token) >= 30
    listing = htmllib.unescape(admin.get("/leads/forms").get_data(as_text=True))
    assert f'<iframe src="http://localhost/leads/w/{form.token}"' in listing
    # salespeople manage no web forms
    rep = client_as(org.rep_east)
    assert rep.get("/leads/forms").status_code == 403
    assert rep.get(f"/leads/forms/{form.id}").status_code == 403


def test_a_visitor_leaves_a_lead_without_csrf_token_in_an_iframe(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["west"].id, thank_you="我们会尽快联系您 We will call.")
    visitor = app.test_client()
    page = visitor.get(f"/leads/w/{form.token}")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "'none'" not in csp.split("frame-ancestors", 1)[1]
    assert "unsafe-inline" not in csp and "X-Frame-Options" not in page.headers
    body = page.get_data(as_text=True)
    assert "csrf_token" not in body and 'name="website_url"' in body and "<script" not in body
    assert "style=" not in body
    # any other page still refuses to be framed
    other = visitor.get("/login")
    assert other.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in other.headers[
        "Content-Security-Policy"]

    sent = post(visitor, form, VISITOR)
    assert sent.status_code == 200 and "We will call." in sent.get_data(as_text=True)
    assert "X-Frame-Options" not in sent.headers
    (lead,) = leads_of(gx)
    assert (lead.name, lead.company, lead.email, lead.source, lead.status, lead.web_form_id) == (
        "马超 Ma Chao", "西凉马业 Xiliang Horses", "machao@example.com", "web_form", "new", form.id)
    assert lead.owner_id in (org.manager_west.id, org.rep_west.id)  # round-robin in the West team
    assert lead.department_id == org.departments["west"].id


def test_the_honeypot_fakes_success_and_saves_nothing(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["east"].id)
    response = post(app.test_client(), form, {**VISITOR, "website_url": "http://spam.example"})
    assert response.status_code == 200 and 'id="capture-thanks"' in response.get_data(as_text=True)
    assert leads_of(gx) == []


def test_errors_are_shown_at_the_field_and_nothing_typed_is_lost(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["east"].id)
    response = post(app.test_client(), form, {**VISITOR, "name": " ", "email": "nope"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This field is required." in field_errors(page, "lead-name")
    assert "Not a valid e-mail address." in field_errors(page, "lead-email")
    assert "西凉马业 Xiliang Horses" in page and "想了解报价" in page
    assert leads_of(gx) == []


def test_rate_limit_per_address_answers_429_in_the_visitors_language(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["east"].id)
    visitor = app.test_client()
    for i in range(5):
        assert post(visitor, form, {**VISITOR, "name": f"访客 {i}"}).status_code == 200
    limited = post(visitor, form, VISITOR, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert limited.status_code == 429
    assert "提交次数过多" in limited.get_data(as_text=True)
    assert "X-Frame-Options" not in limited.headers
    assert len(leads_of(gx)) == 5
    # another address is not held back by the first one
    assert post(visitor, form, {**VISITOR, "name": "另一位"}, ip="198.51.100.9").status_code == 200
    english = post(visitor, form, VISITOR, **{"Accept-Language": "en"})
    assert english.status_code == 429 and "Too many submissions" in english.get_data(as_text=True)


def test_rate_limit_per_form(app, org, gx, system_session, monkeypatch):
    from plugins.leads import webforms
    monkeypatch.setattr(webforms, "PER_FORM_PER_MINUTE", 3)
    form = make_web_form(gx, department_id=org.departments["east"].id)
    visitor = app.test_client()
    for i in range(3):
        assert post(visitor, form, VISITOR, ip=f"198.51.100.{i + 1}").status_code == 200
    assert post(visitor, form, VISITOR, ip="198.51.100.50").status_code == 429
    assert system_session.execute(select(WebFormAttempt.id)).scalars().all()  # attempts are logged


def test_inactive_and_unknown_forms_answer_404(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["east"].id, active=False)
    visitor = app.test_client()
    assert visitor.get(f"/leads/w/{form.token}").status_code == 404
    assert post(visitor, form, VISITOR).status_code == 404
    assert visitor.get("/leads/w/no-such-token").status_code == 404
    assert leads_of(gx) == []


def test_a_form_whose_team_is_empty_falls_back_to_its_owner(app, org, gx):
    form = make_web_form(gx, department_id=org.departments["purchasing"].id, owner_id=org.manager_east.id)
    assert post(app.test_client(), form, VISITOR).status_code == 200
    (lead,) = leads_of(gx)
    assert lead.owner_id == org.manager_east.id
    nobody = make_web_form(gx, department_id=org.departments["purchasing"].id, name="无人 Nobody")
    response = post(app.test_client(), nobody, VISITOR, ip="192.0.2.1")
    assert response.status_code == 503 and len(leads_of(gx)) == 1


def test_a_lost_round_robin_race_is_retried(app, org, gx, monkeypatch):
    from sqlalchemy.orm.exc import StaleDataError
    from plugins.leads import round_robin
    form = make_web_form(gx, department_id=org.departments["east"].id)
    real, calls = round_robin.next_user, []

    def first_call_loses(session, department_id):
        calls.append(department_id)
        if len(calls) == 1:
            raise StaleDataError("another submission took this turn")
        return real(session, department_id)
    monkeypatch.setattr(round_robin, "next_user", first_call_loses)
    assert post(app.test_client(), form, VISITOR).status_code == 200
    assert len(calls) == 2 and len(leads_of(gx)) == 1
