"""Issue #4 in a real browser, first half: a salesperson captures a lead, converts it into a customer, a
contact and an opportunity, and moves the opportunity across the pipeline board (drag and drop, the no-JS
form, and a won drop that asks why); his manager sees the team's pipeline, a salesperson of another team
sees none of it."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from e2e_helpers import button_link, expect_not_found, menu, record_id, url

pytestmark = pytest.mark.e2e

PERSON = "王建国"
COMPANY = "苏州德胜精密机械有限公司"
DEAL = "德胜数控机床改造"


def _column(page, key):
    return page.locator(f"#opportunity-board section.board-column[data-stage-key={key}]")


def _capture_and_convert(page):
    """Lead form → lead page → conversion form; returns (lead id, customer id, opportunity id)."""
    from playwright.sync_api import expect

    menu(page, "Leads")
    button_link(page, "New").click()
    form = page.locator("#record-form")
    form.locator("[name=name]").fill(PERSON)
    form.locator("[name=company]").fill(COMPANY)
    form.locator("[name=title]").fill("设备部经理")
    form.locator("[name=mobile]").fill("139 1234 5678")
    form.locator("[name=source]").select_option("exhibition")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text(PERSON)
    lead_id = record_id(page)

    page.locator("main").get_by_role("link", name="Convert", exact=True).click()
    convert = page.locator("#convert-form")
    expect(convert.locator("[name=customer_name]")).to_have_value(COMPANY)
    expect(convert.locator("[name=contact_name]")).to_have_value(PERSON)
    expect(convert.locator("[name=contact_mobile]")).to_have_value("139 1234 5678")
    convert.locator("#f-create_opportunity").check()
    convert.locator("[name=opportunity_name]").fill(DEAL)
    convert.locator("[name=opportunity_amount]").fill("380000")
    convert.locator("[name=opportunity_expected_close]").fill((dt.date.today() + dt.timedelta(days=60)).isoformat())
    convert.locator("#convert-submit").click()

    expect(page).to_have_url(re.compile(r"/r/customer/\d+$"))
    expect(page.locator("h1")).to_have_text(COMPANY)
    customer_id = record_id(page)
    expect(page.locator("#from-lead")).to_contain_text(PERSON)
    expect(page.locator("#contacts")).to_contain_text(PERSON)
    page.locator("#customer-opportunities").get_by_role("link", name=DEAL).click()
    expect(page.locator("h1")).to_have_text(DEAL)
    expect(page.locator("#current-stage")).to_contain_text("Initial contact")
    return lead_id, customer_id, record_id(page)


def _work_the_board(page, opportunity_id):
    """Drag to the next stage, move on with the card's form, drop on won (which asks why)."""
    from playwright.sync_api import expect

    menu(page, "Pipeline board")
    card = page.locator(f"#opportunity-card-{opportunity_id}")
    expect(_column(page, "initial_contact").locator(card)).to_be_visible()

    # HTML5 drag and drop (board.js posts the move; the column counts follow)
    card.drag_to(_column(page, "needs_confirmed").locator("[data-drop-zone]"))
    expect(page.locator("#board-message")).to_have_class(re.compile(r"alert-success"))
    expect(page.locator("#board-message")).to_contain_text("Needs confirmed")
    expect(_column(page, "needs_confirmed").locator("[data-column-count]")).to_have_text("1")
    expect(_column(page, "initial_contact").locator("[data-column-count]")).to_have_text("0")
    page.reload()  # saved, not only moved on screen
    expect(_column(page, "needs_confirmed").locator(card)).to_be_visible()

    # the card's own form (what works without JavaScript)
    card.locator("select[name=stage_id]").select_option(label="Proposal / quote")
    card.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("main .alert-success")).to_contain_text("Proposal / quote")
    expect(_column(page, "proposal").locator(card)).to_be_visible()

    # won: the drop opens the reason dialog first
    card.drag_to(_column(page, "won").locator("[data-drop-zone]"))
    dialog = page.locator("#close-reason-modal")
    expect(dialog).to_be_visible()
    dialog.locator("#close-reason-won").select_option("win_relationship")
    dialog.locator("#close-note").fill("老客户推荐，技术方案得到认可")
    dialog.get_by_role("button", name="Save and move").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#board-message")).to_contain_text("Won")
    expect(_column(page, "won").locator(card)).to_be_visible()

    page.goto(url(page, f"/r/opportunity/{opportunity_id}"))
    expect(page.locator("#current-stage")).to_contain_text("Won")
    expect(page.locator("#stage-history li[data-history-id]")).to_have_count(4)  # created + 3 moves


def test_lead_becomes_a_won_deal_on_the_board_and_only_the_team_sees_it(browse, org):
    from playwright.sync_api import expect

    rep = browse(org.rep_east)
    lead_id, customer_id, opportunity_id = _capture_and_convert(rep)
    _work_the_board(rep, opportunity_id)

    # The manager of the team sees the team's pipeline: board, list and the record.
    manager = browse(org.manager_east, via_form=False)
    menu(manager, "Pipeline board")
    card = manager.locator(f"#opportunity-card-{opportunity_id}")
    expect(card).to_contain_text(DEAL)
    expect(card.locator("[data-field=owner]")).to_have_text(org.rep_east.name)
    manager.goto(url(manager, "/r/opportunity/"))
    expect(manager.locator("main table")).to_contain_text(DEAL)
    manager.goto(url(manager, f"/r/opportunity/{opportunity_id}"))
    expect(manager.locator("h1")).to_have_text(DEAL)

    # A salesperson of another team sees none of it.
    outsider = browse(org.rep_west, via_form=False)
    menu(outsider, "Pipeline board")
    expect(outsider.locator("#opportunity-board")).to_be_visible()
    expect(outsider.locator(".opportunity-card")).to_have_count(0)
    expect(outsider.locator("main")).not_to_contain_text(DEAL)
    outsider.goto(url(outsider, "/r/opportunity/"))
    expect(outsider.locator("main")).not_to_contain_text(DEAL)
    outsider.goto(url(outsider, "/r/lead/"))
    expect(outsider.locator("main")).not_to_contain_text(PERSON)
    for path in (f"/r/opportunity/{opportunity_id}", f"/r/lead/{lead_id}", f"/r/customer/{customer_id}"):
        expect_not_found(outsider, path)
