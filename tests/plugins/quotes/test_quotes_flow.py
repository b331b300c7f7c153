"""Status flow, revisions, the nightly expiry job (through the real queue consumer), conversion API."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from marshmallow import ValidationError

from core import jobs
from core import services as core_services
from plugins.quotes import services


def post(client, csrf, url):
    return client.post(url, data={"csrf_token": csrf(client, "/")})


def test_draft_sent_accepted_and_only_drafts_are_editable(org, client_as, csrf, customer_of, quote_of, read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    quote_id = quote_of(rep, customer_id)
    # accepting a draft skips a step: refused, nothing changes
    post(rep, csrf, f"/quotes/{quote_id}/status/accepted")
    assert read.quote(quote_id).status == "draft"
    assert post(rep, csrf, f"/quotes/{quote_id}/status/sent").status_code == 302
    sent = read.quote(quote_id)
    assert sent.status == "sent" and sent.sent_at is not None
    # a sent quote is read-only: the form sends back to the quote, the API refuses the change
    edit = rep.get(f"/quotes/{quote_id}/edit")
    assert edit.status_code == 302 and edit.headers["Location"].endswith(f"/r/quote/{quote_id}")
    assert post(rep, csrf, f"/quotes/{quote_id}/status/accepted").status_code == 302
    accepted = read.quote(quote_id)
    assert accepted.status == "accepted" and accepted.decided_at is not None
    assert [changes["status"] for action, changes in read.audit(quote_id) if "status" in changes] == [
        ["draft", "sent"], ["sent", "accepted"]]
    html = rep.get(f"/r/quote/{quote_id}").get_data(as_text=True)
    assert 'data-status="accepted"' in html and f"/quotes/{quote_id}/status/" not in html


def test_the_api_cannot_change_a_sent_quote_nor_set_its_status(org, api_as, make_quote, read):
    api = api_as(org.rep_east)
    quote_id = make_quote(org.rep_east, status="sent")
    response = api.patch(f"/api/v1/quote/{quote_id}", json={"title": "Changed"})
    assert response.status_code == 422 and read.quote(quote_id).title != "Changed"
    draft_id = make_quote(org.rep_east)
    response = api.patch(f"/api/v1/quote/{draft_id}", json={"status": "accepted"})
    assert response.status_code in (400, 422) and read.quote(draft_id).status == "draft"


def test_the_api_creates_a_quote_with_lines_and_reports_line_errors(org, api_as, customer_of, read):
    api = api_as(org.rep_east)
    customer_id, contact_id = customer_of(org.rep_east)
    body = {"title": "API quote", "customer_id": customer_id, "contact_id": contact_id,
            "lines": [{"description": "Consulting", "quantity": "10", "unit_price": "99.90", "tax_rate_percent": "6"}]}
    response = api.post("/api/v1/quote", json=body)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["total"] == "1058.94" and data["lines"][0]["net"] == "999.00" and data["status"] == "draft"
    assert data["currency"] == "CNY" and data["valid_until"]
    bad = api.post("/api/v1/quote", json={**body, "lines": [{"quantity": "0", "unit_price": "1", "description": "x"}]})
    assert bad.status_code == 422 and "lines" in str(bad.get_json())
    assert len(read.quotes()) == 1


def test_a_new_revision_copies_the_quote_and_supersedes_the_old_one(org, client_as, csrf, customer_of, quote_of,
                                                                     read):
    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    first = quote_of(rep, customer_id)
    post(rep, csrf, f"/quotes/{first}/status/sent")
    response = post(rep, csrf, f"/quotes/{first}/revise")
    second = int(re.search(r"/quotes/(\d+)/edit", response.headers["Location"]).group(1))
    old, new = read.quote(first), read.quote(second)
    assert old.superseded and old.status == "sent"
    assert (new.number, new.revision, new.parent_id, new.status, new.superseded) == (old.number, 2, first, "draft",
                                                                                    False)
    assert new.display_number == f"{old.number}-R2" and new.total == old.total
    assert [(l.description, l.gross) for l in new.lines] == [(l.description, l.gross) for l in old.lines]
    # the old revision is read-only: no status change, no second revision from it
    post(rep, csrf, f"/quotes/{first}/status/accepted")
    assert read.quote(first).status == "sent"
    post(rep, csrf, f"/quotes/{first}/revise")
    assert len(read.quotes()) == 2
    html = rep.get(f"/r/quote/{second}").get_data(as_text=True)
    assert f"{old.number}-R2" in html and f'href="/r/quote/{first}"' in html  # the history lists revision 1
    assert "Superseded" in rep.get(f"/r/quote/{first}").get_data(as_text=True)


def test_the_real_expiry_job_expires_sent_quotes_past_their_validity(app_with, consumer_for, org, make_quote, read,
                                                                      tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    queue = jobs.jobs_for(app)
    assert "quotes.expire" in queue.periodic_names()
    yesterday = dt.date.today() - dt.timedelta(days=1)
    past_sent = make_quote(org.rep_east, status="sent", valid_until=yesterday - dt.timedelta(days=3))
    past_draft = make_quote(org.rep_east, status="draft", valid_until=yesterday)
    valid_sent = make_quote(org.rep_east, status="sent", valid_until=dt.date.today() + dt.timedelta(days=2))
    accepted = make_quote(org.rep_east, status="accepted", valid_until=yesterday)
    consumer_for(app, workers=1)

    jobs.enqueue(app, "quotes.expire")

    assert jobs.wait_until(lambda: queue.last_run("quotes.expire") is not None, timeout=30)
    assert queue.last_run("quotes.expire")["status"] == "done", queue.last_run("quotes.expire")
    assert read.quote(past_sent).status == "expired"
    assert [read.quote(q).status for q in (past_draft, valid_sent, accepted)] == ["draft", "sent", "accepted"]
    assert read.audit(past_sent) == [("expire", {"status": ["sent", "expired"]})]


def test_a_sent_quote_past_validity_shows_expired_and_cannot_be_accepted(org, client_as, csrf, make_quote, read):
    rep = client_as(org.rep_east)
    quote_id = make_quote(org.rep_east, status="sent", valid_until=dt.date.today() - dt.timedelta(days=1))
    html = rep.get(f"/r/quote/{quote_id}").get_data(as_text=True)
    assert 'data-status="expired"' in html
    response = post(rep, csrf, f"/quotes/{quote_id}/status/accepted")
    assert read.quote(quote_id).status == "sent"
    assert "has expired" in rep.get(response.headers["Location"]).get_data(as_text=True)


def test_conversion_api_for_contracts_and_orders(app, org, make_quote, read):
    from core.scope import build_user_scope, set_scope
    from core.models import User
    from sqlalchemy import select

    gx = app.extensions["guanxi"]
    draft = make_quote(org.rep_east)
    accepted = make_quote(org.rep_east, status="accepted")
    west = make_quote(org.rep_west, status="accepted")
    with app.test_request_context("/"):
        session = gx.new_session()
        user = session.execute(select(User).where(User.id == org.rep_east.id)).unique().scalar_one()
        set_scope(session, build_user_scope(session, user, gx.entities, gx.hook))
        with pytest.raises(services.NotConvertible) as refused:
            services.accepted_quote_for_conversion(session, draft)
        assert "quote_id" in refused.value.messages and isinstance(refused.value, ValidationError)
        with pytest.raises(core_services.NotFound):
            services.accepted_quote_for_conversion(session, west)  # another rep's quote: not found
        quote = services.accepted_quote_for_conversion(session, accepted)
        assert [line.description for line in quote.lines] == ["Item"]
        row = services.mark_converted(session, quote, "contract", 42)
        assert services.mark_converted(session, quote, "contract", 42).id == row.id
        session.commit()
        assert [(c.target_entity, c.target_id) for c in services.conversions(session, accepted)] == [("contract", 42)]
        session.close()
    assert ("convert", {"converted_to": [None, "contract 42"]}) in read.audit(accepted)
