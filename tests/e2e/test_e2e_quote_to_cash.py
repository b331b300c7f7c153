"""Issue #5 in a real browser: a salesperson turns a quote into a contract with a delivery plan and two payment
plans, records the first instalment with the 回款 action, requests an invoice, and the customer page's
quote-to-cash totals agree with what was done; another team's salesperson sees none of it."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from core import services
from core.money import format_money, line_amounts
from e2e_helpers import expect_not_found, record_id, switch_language, url

pytestmark = pytest.mark.e2e

CUSTOMER = "杭州云帆智能装备有限公司"
CONTACT = "刘思远"
PRODUCT = "云帆工业网关 G200"

# (quantity, unit price, discount %, tax %) of the two quote lines
LINES = [(Decimal("10"), Decimal("1200.00"), Decimal("5"), Decimal("13")),
         (Decimal("1"), Decimal("8000.00"), Decimal("0"), Decimal("6"))]


def _uscc_check(body17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(ch) * w for ch, w in zip(body17, weights))
    return alphabet[(31 - total % 31) % 31]


VALID_TAX_NUMBER = "91330100MA2CXY4R1" + _uscc_check("91330100MA2CXY4R1")


@pytest.fixture
def world(gx, org):
    """The east rep's customer with a contact who has an e-mail, and a product."""
    with gx.system_session("e2e: quote-to-cash world") as session:
        customer = services.create(session, gx.entities["customer"],
                                   {"name": CUSTOMER, "owner_id": org.rep_east.id}, gx.entities)
        services.create(session, gx.entities["contact"],
                        {"name": CONTACT, "customer_id": customer.id, "email": "liusiyuan@yunfan.example",
                         "owner_id": org.rep_east.id}, gx.entities)
        services.create(session, gx.entities["product"],
                        {"code": "G200", "name": PRODUCT, "unit": "台", "price": "1200.00"}, gx.entities)
        return customer.id


def _expected_total() -> Decimal:
    return sum((line_amounts(q, p, d, t, "CNY").gross for q, p, d, t in LINES), Decimal("0"))


def _money(amount) -> str:
    return format_money(Decimal(amount), "CNY", "en")


def _new_quote(page, customer_id):
    from playwright.sync_api import expect

    page.goto(url(page, f"/quotes/new?customer_id={customer_id}"))
    form = page.locator("#quote-form")
    form.locator("[name=title]").fill("云帆工业网关及安装调试")
    form.locator("[name=contact_id]").select_option(label=CONTACT)
    form.locator("[name=valid_until]").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
    first, second = LINES
    product = form.locator("[name='lines-0-product_id']")
    product.select_option(product.locator("option", has_text=PRODUCT).get_attribute("value"))
    for name, value in zip(("quantity", "unit_price", "discount_percent", "tax_rate_percent"), first):
        form.locator(f"[name='lines-0-{name}']").fill(str(value))
    form.locator("[name='lines-1-description']").fill("现场安装调试服务")
    for name, value in zip(("quantity", "unit_price", "discount_percent", "tax_rate_percent"), second):
        form.locator(f"[name='lines-1-{name}']").fill(str(value))
    form.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/r/quote/\d+$"))
    expect(page.locator("main")).to_contain_text(_money(_expected_total()))
    return record_id(page)


def _action(page, label):
    """A record action (link or POST button) in the page body, by its exact text."""
    return page.locator("main").get_by_role("button", name=label, exact=True).or_(
        page.locator("main").get_by_role("link", name=label, exact=True)).first


def _accept_and_convert(page):
    from playwright.sync_api import expect

    _action(page, "Mark as sent").click()
    _action(page, "Accepted").click()
    page.once("dialog", lambda dialog: dialog.accept())
    _action(page, "Convert to contract").click()
    # the new contract opens in its form, prefilled from the quote, for the dates and terms
    expect(page).to_have_url(re.compile(r"/r/contract/\d+/edit$"))
    form = page.locator("#record-form")
    expect(form.locator("[name=amount]")).to_have_value(re.compile(rf"^{re.escape(str(_expected_total()))}"))
    today = dt.date.today()
    form.locator("[name=signed_on]").fill(today.isoformat())
    form.locator("[name=starts_on]").fill(today.isoformat())
    form.locator("[name=ends_on]").fill((today + dt.timedelta(days=365)).isoformat())
    form.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/r/contract/\d+$"))
    page.locator("#contract-status ~ * [data-move=active], [data-move=active]").first.click()
    expect(page.locator("#contract-status")).to_have_attribute("data-status", "active")
    expect(page.locator("main")).to_contain_text(_money(_expected_total()))
    return record_id(page)


def _add_milestone(page):
    from playwright.sync_api import expect

    form = page.locator("#plan-form")
    form.locator("[name=title]").fill("网关到货验收")
    form.locator("[name=due_on]").fill((dt.date.today() + dt.timedelta(days=20)).isoformat())
    form.locator("[name=amount]").fill(str(_expected_total()))
    form.locator("button[type=submit]").click()
    expect(page.locator("#delivery-plan")).to_contain_text("网关到货验收")


def _add_payment_plan(page, instalment, due_in_days, amount):
    from playwright.sync_api import expect

    contract_url = page.url
    page.locator("#add-payment-plan").click()
    form = page.locator("#record-form")
    form.locator("[name=instalment]").fill(str(instalment))
    form.locator("[name=due_on]").fill((dt.date.today() + dt.timedelta(days=due_in_days)).isoformat())
    form.locator("[name=amount]").fill(str(amount))
    form.get_by_role("button", name="Save").click()
    if page.url != contract_url:
        page.goto(contract_url)
    expect(page.locator("#payment-plans")).to_contain_text(_money(amount))


def _pay_first_plan(page, amount):
    """The 回款 action, in the Chinese interface: the form comes prefilled with what the plan still expects."""
    from playwright.sync_api import expect

    switch_language(page, "zh_CN")
    pay = page.locator("#payment-plans [data-pay]").first
    expect(pay).to_have_text("回款")
    pay.click()
    form = page.locator("main form").filter(has=page.locator("[name=amount]")).first
    expect(form.locator("[name=amount]")).to_have_value(re.compile(rf"^{re.escape(str(amount))}"))
    form.locator("[name=reference]").fill("招商银行 回单 20261127-001")
    form.locator("button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text(format_money(Decimal(amount), "CNY", "zh_CN"))
    switch_language(page, "en")


def _request_invoice(page, amount):
    from playwright.sync_api import expect

    _action(page, "Request invoice").click()
    form = page.locator("main form").filter(has=page.locator("[name=tax_number]")).first
    form.locator("[name=title]").fill(CUSTOMER)
    form.locator("[name=tax_number]").fill(VALID_TAX_NUMBER)
    form.locator("[name=amount]").fill(str(amount))
    form.locator("button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/r/invoice_request/\d+$"))
    expect(page.locator("main")).to_contain_text(CUSTOMER)


def _totals(page):
    cells = page.locator(".deal-chain-totals tr[data-currency=CNY] td[data-kind]")
    return {cells.nth(i).get_attribute("data-kind"): cells.nth(i).inner_text().strip()
            for i in range(cells.count())}


def test_quote_to_cash_journey(browse, app, gx, org, world):
    from playwright.sync_api import expect

    total = _expected_total()
    first_instalment = (total * Decimal("0.6")).quantize(Decimal("0.01"))
    second_instalment = total - first_instalment

    page = browse(org.rep_east)
    _new_quote(page, world)
    contract_id = _accept_and_convert(page)
    _add_milestone(page)
    _add_payment_plan(page, 1, 10, first_instalment)
    _add_payment_plan(page, 2, 60, second_instalment)
    _pay_first_plan(page, first_instalment)
    page.goto(url(page, f"/r/contract/{contract_id}"))
    _request_invoice(page, first_instalment)

    page.goto(url(page, f"/r/customer/{world}"))
    chain = page.locator("#deal_chain")
    expect(chain).to_be_visible()
    for stage in ("quotes", "contracts", "delivery_plans", "payment_plans", "payments"):
        expect(chain.locator(f"[data-stage={stage}]")).to_be_visible()
    assert _totals(page) == {
        "contracted": _money(total), "shipped": _money(0), "invoiced": _money(0),
        "received": _money(first_instalment), "outstanding": _money(second_instalment)}

    other = browse(org.rep_west, via_form=False)
    expect_not_found(other, f"/r/contract/{contract_id}")
    expect_not_found(other, f"/r/customer/{world}")
