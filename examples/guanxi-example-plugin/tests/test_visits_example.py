"""Tests of the "visits" module, written only with Guanxi's published fixtures (the ``pytest11`` entry point
``guanxi`` = ``core.testing.pytest_plugin``): ``app``, ``org``, ``client_as``, ``api_as``.

The ``app`` fixture loads every installed module, so the site visits appear here exactly as in production.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import inspect, select

from core import migrate
from core.models import Customer
from guanxi_example_visits.models import SiteVisit


@pytest.fixture
def visits(app, org):
    """For rep_east and rep_west each: a customer and one positive site visit. Returns their ids."""
    gx = app.extensions["guanxi"]
    made = {}
    with gx.system_session("test: site visits") as session:
        for rep, place in ((org.rep_east, "East"), (org.rep_west, "West")):
            customer = Customer(name=f"{place} Customer 客户", owner_id=rep.id, department_id=rep.department_id)
            session.add(customer)
            session.flush()
            visit = SiteVisit(customer_id=customer.id, date=dt.date(2024, 5, 6), purpose=f"{place} plant tour 参观",
                              outcome="positive", owner_id=rep.id, department_id=rep.department_id)
            session.add(visit)
            session.flush()
            made[place.lower()] = {"customer": customer.id, "visit": visit.id}
        session.commit()
    return made


def summary_total(client) -> int:
    html = client.get("/visits/summary").get_data(as_text=True)
    return int(re.search(r'data-outcome="total">(\d+)<', html).group(1))


def test_module_is_loaded_and_its_table_migrated(app):
    gx = app.extensions["guanxi"]
    assert gx.modules["visits"].loaded
    assert inspect(gx.engine).has_table("visits_site_visit")
    assert migrate.current(gx)["visits"] == "visits_0001"


def test_a_rep_never_sees_another_reps_visit(client_as, api_as, org, visits):
    east, west = visits["east"]["visit"], visits["west"]["visit"]
    pages, api = client_as(org.rep_west), api_as(org.rep_west)

    listing = pages.get("/r/site_visit/").get_data(as_text=True)
    assert "West plant tour" in listing and "East plant tour" not in listing
    assert pages.get(f"/r/site_visit/{west}").status_code == 200
    assert pages.get(f"/r/site_visit/{east}").status_code == 404  # exactly like a missing id
    assert [item["id"] for item in api.get("/api/v1/site_visit").get_json()["items"]] == [west]
    assert api.get(f"/api/v1/site_visit/{east}").status_code == 404
    assert summary_total(pages) == 1


def test_a_manager_sees_his_teams_visits_only(client_as, api_as, org, visits):
    api = api_as(org.manager_east)
    assert api.get(f"/api/v1/site_visit/{visits['east']['visit']}").status_code == 200
    assert api.get(f"/api/v1/site_visit/{visits['west']['visit']}").status_code == 404
    assert summary_total(client_as(org.boss)) == 2


def test_customer_page_shows_the_visits_panel_and_action(client_as, org, visits):
    customer_id = visits["east"]["customer"]
    html = client_as(org.rep_east).get(f"/r/customer/{customer_id}").get_data(as_text=True)
    assert "Site visits" in html and "East plant tour" in html
    assert f"/r/site_visit/new?customer_id={customer_id}" in html  # the "Log a site visit" action


def test_visits_are_created_through_the_generic_api_with_its_rules(app, api_as, org, visits):
    api = api_as(org.rep_west)
    created = api.post("/api/v1/site_visit", json={
        "customer_id": visits["west"]["customer"], "date": "2024-06-01", "purpose": "Second visit"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["owner_id"] == org.rep_west.id

    # a customer the rep cannot see cannot be referenced either
    refused = api.post("/api/v1/site_visit", json={
        "customer_id": visits["east"]["customer"], "date": "2024-06-01", "purpose": "Sneaky visit"})
    assert refused.status_code == 422
    assert "customer_id" in refused.get_json()["fields"]
    with app.extensions["guanxi"].system_session("test: count visits") as session:
        purposes = set(session.execute(select(SiteVisit.purpose)).scalars())
    assert "Sneaky visit" not in purposes and "Second visit" in purposes
