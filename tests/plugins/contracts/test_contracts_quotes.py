"""Converting an accepted quote into a contract (one transaction), and refusing it a second time."""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import select

from contracts_helpers import make_contact, make_customer, make_quote, reload
from plugins.contracts.models import Contract


def _convert(client, csrf, quote_id):
    token = csrf(client, "/contracts/expiring")
    return client.post(f"/contracts/from-quote/{quote_id}", data={"csrf_token": token})


def test_an_accepted_quote_becomes_a_prefilled_contract_once(org, client_as, csrf, system_session):
    from plugins.quotes.models import QuoteConversion
    customer = make_customer(system_session, org.rep_east)
    contact = make_contact(system_session, customer, org.rep_east)
    quote = make_quote(system_session, org.rep_east, customer, contact, total="12345.60", currency="USD")
    client = client_as(org.rep_east)
    page = client.get(f"/r/quote/{quote.id}").get_data(as_text=True)
    assert f"/contracts/from-quote/{quote.id}" in page and "Convert to contract" in page

    response = _convert(client, csrf, quote.id)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    contract_id = int(re.search(r"/r/contract/(\d+)/edit", response.headers["Location"]).group(1))
    contract = reload(system_session, Contract, contract_id)
    assert (contract.customer_id, contract.contact_id, contract.currency, contract.amount, contract.quote_id,
            contract.status, contract.owner_id) == (customer.id, contact.id, "USD", Decimal("12345.60"), quote.id,
                                                    "draft", org.rep_east.id)
    assert contract.title == quote.title and contract.terms == "30% 预付款"
    conversions = system_session.execute(select(QuoteConversion.target_entity, QuoteConversion.target_id)
                                         .where(QuoteConversion.quote_id == quote.id)).all()
    assert conversions == [("contract", contract_id)]
    assert client.get(response.headers["Location"]).status_code == 200  # the prefilled form opens

    again = _convert(client, csrf, quote.id)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/r/quote/{quote.id}")
    assert "This quote has already been converted into a contract." in \
        client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(system_session.execute(select(Contract.id)).all()) == 1
    assert "Convert to contract" not in client.get(f"/r/quote/{quote.id}").get_data(as_text=True)

    # the amount, currency and customer stay the quote's
    detail = client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    assert "From quote" in detail


def test_amount_of_a_converted_contract_is_the_quotes(org, client_as, api_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    quote = make_quote(system_session, org.rep_east, customer, total="500.00", currency="CNY")
    response = _convert(client_as(org.rep_east), csrf, quote.id)
    contract_id = int(re.search(r"/r/contract/(\d+)", response.headers["Location"]).group(1))
    refused = api_as(org.rep_east).patch(f"/api/v1/contract/{contract_id}", json={"amount": "450.00"})
    assert refused.status_code == 422 and "amount" in refused.get_json()["fields"]
    fine = api_as(org.rep_east).patch(f"/api/v1/contract/{contract_id}", json={"ends_on": "2027-01-31"})
    assert fine.status_code == 200


def test_only_accepted_visible_quotes_are_converted(org, client_as, csrf, system_session):
    customer = make_customer(system_session, org.rep_east)
    draft = make_quote(system_session, org.rep_east, customer, status="sent", number="QT-2026-0002")
    client = client_as(org.rep_east)
    response = _convert(client, csrf, draft.id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/quote/{draft.id}")
    assert "Only an accepted quote can be converted." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert "Convert to contract" not in client.get(f"/r/quote/{draft.id}").get_data(as_text=True)
    west_customer = make_customer(system_session, org.rep_west, "West Co")
    theirs = make_quote(system_session, org.rep_west, west_customer, number="QT-2026-0003")
    assert _convert(client, csrf, theirs.id).status_code == 404
    assert _convert(client, csrf, 987654).status_code == 404
    assert system_session.execute(select(Contract.id)).first() is None


def test_links_to_opportunity_and_project_are_checked_and_shown(org, client_as, csrf, system_session):
    from plugins.opportunities.models import Opportunity
    from plugins.projects.models import Project
    customer = make_customer(system_session, org.rep_east)
    other = make_customer(system_session, org.rep_east, "Other Co")
    mine = dict(owner_id=org.rep_east.id, department_id=org.rep_east.department_id)
    opportunity = Opportunity(name="机床商机 Lathe deal", customer_id=customer.id, amount=Decimal("100"),
                              currency="CNY", **mine)
    foreign = Opportunity(name="Other deal", customer_id=other.id, amount=Decimal("1"), currency="CNY", **mine)
    project = Project(number="PRJ-T-1", name="智慧工厂 Smart factory", **mine)
    hidden = Project(number="PRJ-T-2", name="West project", owner_id=org.rep_west.id,
                     department_id=org.rep_west.department_id)
    system_session.add_all([opportunity, foreign, project, hidden])
    system_session.commit()
    quote = make_quote(system_session, org.rep_east, customer, opportunity_id=opportunity.id, project_id=project.id)
    client = client_as(org.rep_east)
    from contracts_helpers import create_contract, field_error
    response = create_contract(client, csrf, customer, expect=422, opportunity_id=foreign.id)
    assert "belongs to another customer" in field_error(response.get_data(as_text=True), "f-opportunity_id-errors")
    response = create_contract(client, csrf, customer, expect=422, project_id=hidden.id)
    assert "Not found." in field_error(response.get_data(as_text=True), "f-project_id-errors")

    converted = _convert(client, csrf, quote.id)
    contract_id = int(re.search(r"/r/contract/(\d+)", converted.headers["Location"]).group(1))
    contract = reload(system_session, Contract, contract_id)
    assert (contract.opportunity_id, contract.project_id) == (opportunity.id, project.id)
    detail = client.get(f"/r/contract/{contract_id}").get_data(as_text=True)
    assert f'href="/r/opportunity/{opportunity.id}"' in detail and f'href="/r/project/{project.id}"' in detail
    for entity, record_id in (("opportunity", opportunity.id), ("project", project.id), ("customer", customer.id)):
        page = client.get(f"/r/{entity}/{record_id}").get_data(as_text=True)
        assert f'data-contract-id="{contract_id}"' in page, entity


def test_two_conversions_racing_make_one_contract(app, gx, org, system_session):
    """Two requests convert the same quote at the same moment: one contract, the other is refused."""
    import threading

    from sqlalchemy.exc import IntegrityError

    from core.models import User
    from core.scope import build_user_scope, system_scope
    from plugins.contracts import services
    customer = make_customer(system_session, org.rep_east)
    quote = make_quote(system_session, org.rep_east, customer)
    outcomes, barrier = [], threading.Barrier(3)

    def convert():
        with app.test_request_context():
            session = gx.session_factory()
            try:
                with system_scope(session, "test: load user"):
                    user = session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
                    scope = build_user_scope(session, user, gx.entities, gx.hook)
                session.info["scope"] = scope
                barrier.wait()
                services.create_from_quote(session, quote.id)
                session.commit()
                outcomes.append("created")
            except (IntegrityError, ValidationError):
                session.rollback()
                outcomes.append("refused")
            except Exception as exc:  # noqa: BLE001 - reported below
                session.rollback()
                outcomes.append(repr(exc))
            finally:
                session.close()

    threads = [threading.Thread(target=convert) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused", "refused"], outcomes
    system_session.rollback()
    assert len(system_session.execute(select(Contract.id).where(Contract.quote_id == quote.id)).all()) == 1
