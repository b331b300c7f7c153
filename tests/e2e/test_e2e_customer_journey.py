"""Core journey in a real browser: a salesperson records a customer with a Chinese name and a follow-up, finds
it again by pinyin, works in both languages; a salesperson of another team cannot open it."""
from __future__ import annotations

import re

import pytest

from e2e_helpers import button_link, expect_not_found, menu, record_id, switch_language, url

pytestmark = pytest.mark.e2e

CUSTOMER = "杭州西湖龙井茶业有限公司"


def test_salesperson_records_a_customer_and_finds_it_by_pinyin(browse, org):
    from playwright.sync_api import expect

    page = browse(org.rep_east)
    menu(page, "Customers")
    button_link(page, "New").click()
    page.locator("#f-name").fill(CUSTOMER)
    page.locator("#f-phone").fill("0571-8888 6666")
    page.locator("#f-level").select_option("A")
    page.locator("#record-form").get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text(CUSTOMER)
    expect(page.locator("main .alert-success")).to_be_visible()
    customer_id = record_id(page)

    # The follow-up quick form on the customer's page (联系记录).
    quick = page.locator("#followup-quick-add")
    quick.locator("#qa-kind").select_option("call")
    quick.locator("#qa-content").fill("电话沟通：客户要两百箱明前龙井的报价")
    quick.get_by_role("button", name="Add", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/r/customer/{customer_id}(#followups)?$"))
    expect(page.locator("#followups")).to_contain_text("两百箱明前龙井")
    expect(page.locator("#followups")).to_contain_text("Phone call")

    # The navbar box suggests while typing (htmx) — full pinyin of a part of the name.
    page.goto(url(page, "/"))
    box = page.locator("nav.navbar input[name=q]")
    box.fill("xihulongjing")
    suggestion = page.locator("#search-suggest a[role=option]", has_text=CUSTOMER)
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(page).to_have_url(url(page, f"/r/customer/{customer_id}"))

    # The search page, by pinyin initials.
    box = page.locator("nav.navbar input[name=q]")
    box.fill("hzxhlj")
    box.press("Enter")
    expect(page.locator("main section[data-entity=customer]")).to_contain_text(CUSTOMER)

    # Both languages, chosen from the footer; the choice sticks to the next page.
    switch_language(page, "zh_CN")
    expect(page.locator("nav.navbar")).to_contain_text("客户")
    page.goto(url(page, f"/r/customer/{customer_id}"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#followups")).to_contain_text("电话")
    switch_language(page, "en")
    expect(page.locator("nav.navbar")).to_contain_text("Customers")

    # The manager of the team sees it; a salesperson of another team gets 404 and finds nothing.
    manager = browse(org.manager_east, via_form=False)
    manager.goto(url(manager, f"/r/customer/{customer_id}"))
    expect(manager.locator("h1")).to_have_text(CUSTOMER)

    outsider = browse(org.rep_west, via_form=False)
    expect_not_found(outsider, f"/r/customer/{customer_id}")
    outsider.goto(url(outsider, "/search?q=xihulongjing"))
    expect(outsider.locator("main")).to_contain_text("Nothing found")
    outsider.goto(url(outsider, "/r/customer/"))
    expect(outsider.locator("main")).not_to_contain_text(CUSTOMER)
