"""Data scope: a salesperson never reads or changes another salesperson's quote (pages, API, PDF, mail,
status, revisions, lines); panels and the chain show only what the user may see; query counts stay flat."""
from __future__ import annotations

import re

from sqlalchemy import select


def test_a_rep_cannot_reach_another_reps_quote_by_url_or_api(org, client_as, api_as, csrf, make_quote, read):
    quote_id = make_quote(org.rep_west, price="777")
    east = client_as(org.rep_east)
    token = csrf(east, "/")
    for url in (f"/r/quote/{quote_id}", f"/quotes/{quote_id}/edit", f"/quotes/{quote_id}/pdf?lang=en",
                f"/quotes/{quote_id}/mail"):
        assert east.get(url).status_code == 404, url
    assert east.get(f"/r/quote/{quote_id}/edit", follow_redirects=True).status_code == 404
    for url in (f"/quotes/{quote_id}/status/sent", f"/quotes/{quote_id}/revise", f"/quotes/{quote_id}/edit",
                f"/quotes/{quote_id}/mail", f"/r/quote/{quote_id}/delete"):
        assert east.post(url, data={"csrf_token": token, "title": "x", "to": "a@example.com",
                                    "subject": "s"}).status_code == 404, url
    api = api_as(org.rep_east)
    assert api.get(f"/api/v1/quote/{quote_id}").status_code == 404
    assert api.patch(f"/api/v1/quote/{quote_id}", json={"title": "mine"}).status_code == 404
    listed = api.get("/api/v1/quote?limit=200").get_json()["items"]
    assert quote_id not in {item["id"] for item in listed}
    quote = read.quote(quote_id)
    assert (quote.status, quote.title, quote.superseded, quote.deleted_at) == ("draft", "测试报价 Test quote", False, None)
    # the manager of the West sees it; the East manager does not
    assert client_as(org.manager_west).get(f"/r/quote/{quote_id}").status_code == 200
    assert client_as(org.manager_east).get(f"/r/quote/{quote_id}").status_code == 404


def test_lines_come_only_through_a_visible_quote(app, org, make_quote):
    from core.models import User
    from core.scope import build_user_scope, set_scope
    from plugins.quotes.models import Quote, QuoteLine

    gx = app.extensions["guanxi"]
    west_quote = make_quote(org.rep_west)
    east_quote = make_quote(org.rep_east)
    with app.test_request_context("/"):
        session = gx.new_session()
        user = session.execute(select(User).where(User.id == org.rep_east.id)).unique().scalar_one()
        set_scope(session, build_user_scope(session, user, gx.entities, gx.hook))
        # lines have no EntitySpec of their own: every reader reaches them through the (scoped) quote
        visible = set(session.execute(select(QuoteLine.quote_id).join(Quote, Quote.id == QuoteLine.quote_id))
                      .scalars())
        loaded = {line.quote_id for quote in session.execute(select(Quote)).unique().scalars()
                  for line in quote.lines}
        session.close()
    assert visible == loaded == {east_quote} and west_quote not in visible


def test_a_rep_cannot_quote_with_a_customer_or_contact_he_cannot_see(org, client_as, customer_of, post_quote, read):
    east = client_as(org.rep_east)
    west_customer, west_contact = customer_of(org.rep_west, name="West Co")
    html = post_quote(east, west_customer, [{"description": "x", "quantity": "1", "unit_price": "1"}],
                      expect=422).get_data(as_text=True)
    assert "Not found." in html and read.quotes() == []
    own_customer, _contact = customer_of(org.rep_east)
    post_quote(east, own_customer, [{"description": "x", "quantity": "1", "unit_price": "1"}], expect=422,
               contact_id=str(west_contact))
    assert read.quotes() == []


def test_transferring_a_quote_moves_its_lines_with_it(org, client_as, csrf, make_quote, read):
    quote_id = make_quote(org.rep_east)
    manager = client_as(org.manager_east)
    response = manager.post("/r/quote/transfer", data={"csrf_token": csrf(manager, "/"), "ids": str(quote_id),
                                                       "owner_id": str(org.rep_east_sub.id)})
    assert response.status_code == 302
    quote = read.quote(quote_id)
    assert quote.owner_id == org.rep_east_sub.id and {l.owner_id for l in quote.lines} == {org.rep_east_sub.id}
    html = client_as(org.rep_east_sub).get(f"/r/quote/{quote_id}").get_data(as_text=True)
    assert "Item" in html and "113.00" in html


def test_customer_panel_and_chain_show_only_visible_quotes(org, client_as, customer_of, make_quote):
    customer_id, _contact = customer_of(org.rep_east)
    mine = make_quote(org.rep_east, customer_id=customer_id, status="sent")
    # a colleague's quote for the same customer (a shared account) stays hidden from the rep
    theirs = make_quote(org.rep_west, customer_id=customer_id)
    html = client_as(org.rep_east).get(f"/r/customer/{customer_id}").get_data(as_text=True)
    assert f'href="/r/quote/{mine}"' in html and f'href="/r/quote/{theirs}"' not in html
    assert 'id="related-quotes"' in html
    boss = client_as(org.boss).get(f"/r/customer/{customer_id}").get_data(as_text=True)
    assert f'href="/r/quote/{mine}"' in boss and f'href="/r/quote/{theirs}"' in boss


def test_the_chain_stage_lists_quotes_without_totals(app, org, customer_of, make_quote):
    from core.chain import collect
    from core.models import Customer, User
    from core.scope import build_user_scope, set_scope

    gx = app.extensions["guanxi"]
    customer_id, _contact = customer_of(org.rep_east)
    accepted = make_quote(org.rep_east, customer_id=customer_id, status="accepted", price="500")
    make_quote(org.rep_west, customer_id=customer_id)
    with app.test_request_context("/"):
        session = gx.new_session()
        user = session.execute(select(User).where(User.id == org.rep_east.id)).unique().scalar_one()
        set_scope(session, build_user_scope(session, user, gx.entities, gx.hook))
        customer = session.execute(select(Customer).where(Customer.id == customer_id)).unique().scalar_one()
        chain = collect("customer", customer, user, session)
        [stage] = [s for s in chain.stages if s.key == "quotes"]
        assert stage.position == 10 and stage.totals == {}
        assert [(row.url, str(row.status_label), row.amount) for row in stage.rows] == [
            (f"/r/quote/{accepted}", "Accepted", read_total(session, accepted))]
        assert all(sum(amounts.values()) == 0 for amounts in chain.totals.values())

        class Order:  # an order (or contract) made from the quote: the chain shows the quote it came from
            id, quote_id = 1, accepted
        from plugins.quotes import chain as quotes_chain
        [stage] = quotes_chain.stages("order", Order(), session)
        assert [row.url for row in stage.rows] == [f"/r/quote/{accepted}"]
        session.close()


def read_total(session, quote_id):
    from plugins.quotes.models import Quote
    return session.execute(select(Quote.total).where(Quote.id == quote_id)).scalar_one()


def test_list_and_detail_query_counts_do_not_grow_with_rows(org, client_as, api_as, make_quote, count_queries):
    rep = client_as(org.rep_east)
    api = api_as(org.rep_east)
    first = make_quote(org.rep_east)
    rep.get("/r/quote/")
    rep.get(f"/r/quote/{first}")
    api.get("/api/v1/quote")
    with count_queries() as few:
        assert rep.get("/r/quote/").status_code == 200
    with count_queries() as api_few:
        assert len(api.get("/api/v1/quote").get_json()["items"][0]["lines"]) == 1
    with count_queries() as detail_few:
        assert rep.get(f"/r/quote/{first}").status_code == 200
    for _ in range(15):
        make_quote(org.rep_east)
    with count_queries() as many:
        page = rep.get("/r/quote/")
    assert page.status_code == 200 and len(set(re.findall(r'href="/r/quote/(\d+)"', page.get_data(as_text=True)))) == 16
    assert many.count == few.count, many.statements
    with count_queries() as detail_many:
        assert rep.get(f"/r/quote/{first}").status_code == 200
    assert detail_many.count == detail_few.count
    with count_queries() as api_many:  # the lines of a page of quotes come in one query, not one per quote
        items = api.get("/api/v1/quote").get_json()["items"]
    assert len(items) == 16 and all(len(item["lines"]) == 1 for item in items)
    assert api_many.count == api_few.count
    print(f"\nquote list: {many.count} queries for 16 rows; detail: {detail_many.count}; API list: {api_many.count}")


def test_an_opportunity_quote_must_be_for_its_customer_and_shows_on_its_page(org, client_as, customer_of, gx,
                                                                               post_quote, quote_of):
    from plugins.opportunities.models import Opportunity

    rep = client_as(org.rep_east)
    customer_id, _contact = customer_of(org.rep_east)
    other_customer, _other_contact = customer_of(org.rep_east, name="另一家 Another")
    with gx.system_session("test: opportunity") as session:
        deal = Opportunity(name="产线改造 Line upgrade", customer_id=customer_id, owner_id=org.rep_east.id,
                           department_id=org.rep_east.department_id, custom={})
        session.add(deal)
        session.commit()
        deal_id = deal.id
    html = post_quote(rep, other_customer, [{"description": "x", "quantity": "1", "unit_price": "1"}], expect=422,
                      opportunity_id=str(deal_id)).get_data(as_text=True)
    assert "belongs to another customer" in html
    quote_id = quote_of(rep, customer_id, opportunity_id=str(deal_id))
    page = rep.get(f"/r/opportunity/{deal_id}").get_data(as_text=True)
    assert f'href="/r/quote/{quote_id}"' in page
    assert f"/quotes/new?opportunity_id={deal_id}&amp;customer_id={customer_id}" in page
    # the rep of the West sees neither the opportunity nor its quote
    assert client_as(org.rep_west).get(f"/r/quote/{quote_id}").status_code == 404
