"""Issue #4 in a real browser, second half: a salesperson working in Chinese runs a project from 项目立项 to
合同签订 — linked customer and contact, a follow-up at every stage, a note on every change — and only his
team sees it."""
from __future__ import annotations

import datetime as dt

import pytest

from core import services
from e2e_helpers import expect_not_found, menu, record_id, switch_language, url

pytestmark = pytest.mark.e2e

CUSTOMER = "上海浦东智慧园区建设有限公司"
CONTACT = "陈晓燕"
PROJECT = "浦东智慧园区安防集成项目"
# (stage reached, follow-up logged before moving on, note on the change)
STEPS = [
    ("项目跟踪", "visit", "首次拜访业主方，了解安防改造范围", "业主确认立项预算"),
    ("技术确认", "meeting", "技术交流会：确认监控点位与存储方案", "技术方案通过评审"),
    ("商务确认", "call", "电话沟通商务条款与付款节点", "报价与付款方式已确认"),
    ("合同签订", "visit", "上门签署合同，约定下月进场", "合同已盖章"),
]


@pytest.fixture
def customer_of_rep(gx, org):
    """The rep's customer and its contact, made through the services (the lead journey covers the forms)."""
    with gx.system_session("e2e: customer of the east rep") as session:
        customer = services.create(session, gx.entities["customer"],
                                   {"name": CUSTOMER, "owner_id": org.rep_east.id}, gx.entities)
        services.create(session, gx.entities["contact"],
                        {"name": CONTACT, "customer_id": customer.id, "title": "信息中心主任",
                         "owner_id": org.rep_east.id}, gx.entities)
        return customer.id


def _new_project(page):
    from playwright.sync_api import expect

    menu(page, "项目")
    page.locator("#new-project").click()
    form = page.locator("#record-form")
    form.locator("[name=name]").fill(PROJECT)
    form.locator("[name=importance]").select_option("key")
    form.locator("[name=type]").select_option("integration")
    form.locator("[name=kickoff_date]").fill(dt.date.today().isoformat())
    form.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_contain_text(PROJECT)
    expect(page.locator("#stage [data-current-stage]")).to_have_text("项目立项")
    return record_id(page)


def _link_customer_and_contact(page):
    from playwright.sync_api import expect

    link = page.locator("#link-customer")
    link.locator("#link-customer-id").select_option(label=CUSTOMER)
    link.locator("#link-customer-role").fill("业主方")
    link.get_by_role("button", name="关联客户").click()
    expect(page.locator("#project-customers")).to_contain_text(CUSTOMER)
    contact = page.locator("#link-contact")
    choice = contact.locator("#link-contact-id option", has_text=CONTACT)  # "<contact> · <customer>"
    contact.locator("#link-contact-id").select_option(choice.get_attribute("value"))
    contact.locator("#link-contact-role").fill("技术负责人")
    contact.get_by_role("button", name="关联联系人").click()
    expect(page.locator("#project-contacts")).to_contain_text(CONTACT)


def _follow_up_then_advance(page, stage, kind, content, note):
    from playwright.sync_api import expect

    quick = page.locator("#followup-quick-add")
    quick.locator("#qa-kind").select_option(kind)
    quick.locator("#qa-content").fill(content)
    quick.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator("#followups")).to_contain_text(content)

    change = page.locator("#stage-change")
    change.locator("#stage-next").select_option(label=stage)
    change.locator("#stage-note").fill(note)
    change.get_by_role("button", name="变更阶段").click()
    expect(page.locator("main .alert-success")).to_contain_text("阶段已变更")
    expect(page.locator("#stage [data-current-stage]")).to_have_text(stage)
    expect(page.locator("#stage-timeline")).to_contain_text(note)


def test_project_runs_from_initiation_to_contract_in_chinese(browse, org, customer_of_rep):
    from playwright.sync_api import expect

    rep = browse(org.rep_east)
    switch_language(rep, "zh_CN")
    project_id = _new_project(rep)
    _link_customer_and_contact(rep)
    for stage, kind, content, note in STEPS:
        _follow_up_then_advance(rep, stage, kind, content, note)

    timeline = rep.locator("#stage-timeline")
    previous = "项目立项"
    for stage, *_rest in STEPS:
        expect(timeline).to_contain_text(f"{previous} → {stage}")
        previous = stage
    followups = rep.locator("#followups")
    for _stage, _kind, content, _note in STEPS:
        expect(followups).to_contain_text(content)

    # The customer's page lists the project at its new stage, and the project's follow-ups.
    rep.goto(url(rep, f"/r/customer/{customer_of_rep}"))
    row = rep.locator("#customer-projects tr", has_text=PROJECT)
    expect(row).to_contain_text("合同签订")
    expect(rep.locator("#followups")).to_contain_text(STEPS[-1][2])

    # The team's manager sees the project; a salesperson of another team sees none of it.
    manager = browse(org.manager_east, via_form=False)
    menu(manager, "Projects")
    expect(manager.locator(f"#projects-table tr[data-project-id='{project_id}']")).to_contain_text("Contract signed")
    manager.goto(url(manager, f"/r/project/{project_id}"))
    expect(manager.locator("#stage [data-current-stage]")).to_have_text("Contract signed")

    outsider = browse(org.rep_west, via_form=False)
    menu(outsider, "Projects")
    expect(outsider.locator("main")).not_to_contain_text(PROJECT)
    outsider.goto(url(outsider, "/search?q=pudong"))
    expect(outsider.locator("main")).not_to_contain_text(CUSTOMER)
    expect_not_found(outsider, f"/r/project/{project_id}")
    expect_not_found(outsider, f"/r/customer/{customer_of_rep}")
