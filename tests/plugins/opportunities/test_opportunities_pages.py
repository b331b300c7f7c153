"""Stage settings, the customer panel, customer merges, menus and the Chinese pages."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.dedupe.merge import merge
from core.models import Contact, User
from core.scope import build_user_scope
from plugins.opportunities.models import Opportunity, OpportunityStage

from conftest import card_ids, owned


def _stage(system_session, key):
    system_session.rollback()  # end the snapshot (MariaDB reads repeatably within one)
    system_session.expire_all()
    return system_session.execute(select(OpportunityStage).where(OpportunityStage.key == key)).scalar_one()


def _stage_form(client, csrf, stage, **changes):
    data = {"csrf_token": csrf(client, "/opportunities/stages"), "label_zh": stage.label_zh,
            "label_en": stage.label_en, "probability": str(stage.probability), "kind": stage.kind,
            "active": "1" if stage.active else ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_stock_stages_match_the_migration(stages):
    import importlib.util
    from pathlib import Path

    import plugins.opportunities as package
    path = Path(package.__file__).parent / "migrations" / "versions" / "0001_opportunities.py"
    spec = importlib.util.spec_from_file_location("opportunities_0001", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    seeded = [(s.key, s.label_zh, s.label_en, s.probability, s.position, s.kind) for s in
              sorted(stages.values(), key=lambda s: s.position)]
    assert seeded == migration.STOCK_STAGES
    assert [(s[0], s[3], s[5]) for s in seeded] == [
        ("initial_contact", 10, "open"), ("needs_confirmed", 30, "open"), ("proposal", 50, "open"),
        ("negotiation", 70, "open"), ("won", 100, "won"), ("lost", 0, "lost")]


def test_admin_edits_adds_reorders_and_deactivates_stages(org, client_as, csrf, stages, opportunity_of,
                                                          system_session):
    boss = client_as(org.boss)
    page = boss.get("/opportunities/stages").get_data(as_text=True)
    assert "需求确认" in page and "Needs confirmed" in page
    proposal = stages["proposal"]
    saved = boss.post(f"/opportunities/stages/{proposal.id}",
                      data=_stage_form(boss, csrf, proposal, label_en="Quotation", probability="55"))
    assert saved.status_code == 302
    assert (_stage(system_session, "proposal").label_en, _stage(system_session, "proposal").probability) == (
        "Quotation", 55)
    bad = boss.post(f"/opportunities/stages/{proposal.id}", data=_stage_form(boss, csrf, proposal, probability="120"))
    assert bad.status_code == 422 and "A whole number from 0 to 100." in bad.get_data(as_text=True)
    added = boss.post("/opportunities/stages", data=_stage_form(boss, csrf, proposal, label_zh="合同审批",
                                                                label_en="Contract approval", probability="90"))
    assert added.status_code == 302
    system_session.rollback()
    new = system_session.execute(select(OpportunityStage).where(OpportunityStage.label_en == "Contract approval")
                                 ).scalar_one()
    assert new.key.startswith("stage_") and new.position > stages["lost"].position
    # up twice: before "won" and "negotiation"... then it sits after "proposal"
    for _ in range(3):
        boss.post(f"/opportunities/stages/{new.id}/reorder",
                  data={"csrf_token": csrf(boss, "/opportunities/stages"), "direction": "up"})
    system_session.rollback()
    order = [s.key for s in system_session.execute(select(OpportunityStage).order_by(OpportunityStage.position))
             .scalars()]
    assert order == ["initial_contact", "needs_confirmed", "proposal", new.key, "negotiation", "won", "lost"]
    # a stage still holding opportunities cannot be switched off; an empty one can
    opportunity_of(org.rep_west, "华西", "negotiation")
    negotiation = stages["negotiation"]
    refused = boss.post(f"/opportunities/stages/{negotiation.id}",
                        data=_stage_form(boss, csrf, negotiation, active=None))
    assert refused.status_code == 422 and "still in this stage" in refused.get_data(as_text=True)
    off = boss.post(f"/opportunities/stages/{new.id}", data=_stage_form(boss, csrf, new, active=None))
    assert off.status_code == 302 and _stage(system_session, new.key).active is False
    board = boss.get("/opportunities/board").get_data(as_text=True)
    assert f'id="stage-column-{new.id}"' not in board and "Quotation" in board


def test_salesperson_cannot_configure_stages(org, client_as, csrf, stages):
    rep = client_as(org.rep_east)
    assert rep.get("/opportunities/stages").status_code == 403
    response = rep.post(f"/opportunities/stages/{stages['won'].id}",
                        data={"csrf_token": csrf(rep), "label_zh": "x", "label_en": "x", "probability": "1",
                              "kind": "open", "active": "1"})
    assert response.status_code == 403
    assert "Opportunity stages" not in rep.get("/").get_data(as_text=True)


def test_customer_page_lists_its_opportunities_within_scope(org, client_as, stages, opportunity_of,
                                                            customer_of):
    customer = customer_of(org.rep_east, "共享客户")
    mine = opportunity_of(org.rep_east, "我的机会", "proposal", "2500.00", customer=customer)
    theirs = opportunity_of(org.rep_east_sub, "同事的机会", customer=customer)
    rep = client_as(org.rep_east)
    html = rep.get(f"/r/customer/{customer.id}").get_data(as_text=True)
    panel = html.split('id="customer-opportunities"')[1].split("</table>")[0]
    assert "我的机会" in panel and "Proposal / quote" in panel and "2,500.00 CNY" in panel
    assert "同事的机会" not in panel
    assert f"/r/opportunity/new?customer_id={customer.id}" in html  # "New opportunity" action
    manager = client_as(org.manager_east).get(f"/r/customer/{customer.id}").get_data(as_text=True)
    assert "我的机会" in manager and "同事的机会" in manager
    assert {mine.id, theirs.id} == {int(i) for i in re.findall(r'href="/r/opportunity/(\d+)"', manager)}


def test_customer_and_contact_merges_relink_opportunities(app, org, stages, opportunity_of, customer_of,
                                                          system_session):
    keep, dup = customer_of(org.rep_east, "华宏贸易"), customer_of(org.rep_east, "上海华宏贸易有限公司")
    other_contact = Contact(name="旧联系人", customer_id=dup.id, **owned(org.rep_east))
    system_session.add(other_contact)
    system_session.commit()
    moved = opportunity_of(org.rep_east, "跟随合并", customer=dup, contact_id=other_contact.id)
    foreign = opportunity_of(org.rep_east_sub, "同事的也跟随", customer=dup)
    stays = opportunity_of(org.rep_east, "不相关", customer=keep)
    gx = app.extensions["guanxi"]
    session = gx.new_session(build_user_scope(system_session, org.rep_east, gx.entities, gx.hook))
    try:
        merge(session, gx.entities["customer"], keep.id, [dup.id], {}, gx.hook)
    finally:
        session.close()
    system_session.rollback()  # end the snapshot (MariaDB reads repeatably within one)
    system_session.expire_all()
    rows = {o.id: o for o in system_session.execute(select(Opportunity)).scalars()}
    assert {rows[i].customer_id for i in (moved.id, foreign.id, stays.id)} == {keep.id}
    assert rows[moved.id].version == 2  # the re-link is a change: an open edit form is now stale
    survivor_contact = Contact(name="新联系人", customer_id=keep.id, **owned(org.rep_east))
    system_session.add(survivor_contact)
    system_session.commit()
    gx.hook.merge_records(entity="contact", survivor_id=survivor_contact.id, merged_ids=[other_contact.id],
                          session=system_session)
    system_session.commit()
    system_session.rollback()  # end the snapshot (MariaDB reads repeatably within one)
    system_session.expire_all()
    assert system_session.execute(select(Opportunity.contact_id).where(Opportunity.id == moved.id)).scalar() == \
        survivor_contact.id


def test_menus_and_detail_page(org, client_as, stages, opportunity_of):
    record = opportunity_of(org.rep_east, "东方电气扩容", "negotiation", "1000.00")
    rep = client_as(org.rep_east)
    home = rep.get("/").get_data(as_text=True)
    assert 'href="/r/opportunity/"' in home and 'href="/opportunities/board"' in home
    assert 'href="/opportunities/forecast"' in home  # from the dashboard tile
    detail = rep.get(f"/r/opportunity/{record.id}").get_data(as_text=True)
    assert 'id="detail-move-form"' in detail and "700.00 CNY" in detail
    assert client_as(org.rep_west).get(f"/r/opportunity/{record.id}").status_code == 404
    assert "Opportunities" not in client_as(org.procurement).get("/").get_data(as_text=True)


def test_a_chinese_user_sees_the_board_and_forms_in_chinese(org, client_as, stages, opportunity_of,
                                                            system_session):
    user = system_session.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
    user.language = "zh_CN"
    system_session.commit()
    record = opportunity_of(org.rep_east, "东方电气扩容", "proposal", "1000.00")
    rep = client_as(org.rep_east)
    board = rep.get("/opportunities/board").get_data(as_text=True)
    assert "销售漏斗看板" in board and "方案报价" in board and "加权" in board and "移动" in board
    assert "Pipeline board" not in board and "Proposal / quote" not in board
    assert card_ids(board) == {record.id}
    form = rep.get("/r/opportunity/new").get_data(as_text=True)
    assert "机会名称" in form and "预计成交日期" in form and "赢单/输单原因" in form
    forecast = rep.get("/opportunities/forecast").get_data(as_text=True)
    assert "销售预测" in forecast and "按负责人" in forecast
    detail = rep.get(f"/r/opportunity/{record.id}").get_data(as_text=True)
    assert "阶段历史" in detail and "方案报价" in detail


def test_pool_deal_dates_are_the_latest_won_close_dates(app, org, stages, opportunity_of, customer_of,
                                                        system_session):
    import datetime as dt
    first, second, third = (customer_of(org.rep_east, n) for n in ("甲", "乙", "丙"))
    at = lambda *args: dt.datetime(*args, tzinfo=dt.timezone.utc)  # noqa: E731
    opportunity_of(org.rep_east, "早", "won", customer=first, close_reason="win_price", closed_at=at(2030, 1, 5, 3))
    opportunity_of(org.rep_west, "晚", "won", customer=first, close_reason="win_price", closed_at=at(2030, 6, 1, 3))
    opportunity_of(org.rep_east, "输", "lost", customer=second, close_reason="loss_price", closed_at=at(2030, 7, 1))
    opportunity_of(org.rep_east, "开", "proposal", customer=third)
    deleted = opportunity_of(org.rep_east, "删", "won", customer=second, close_reason="win_price",
                             closed_at=at(2030, 8, 1))
    deleted.deleted_at = at(2030, 8, 2)
    system_session.commit()
    with app.app_context():
        answers = app.extensions["guanxi"].hook.pool_deal_dates(session=system_session,
                                                                 customer_ids=[first.id, second.id, third.id])
    assert {first.id: dt.date(2030, 6, 1)} in answers


def test_stage_changes_are_audited(org, client_as, csrf, stages, system_session):
    from core.models import AuditEntry
    boss = client_as(org.boss)
    won = stages["won"]
    boss.post(f"/opportunities/stages/{won.id}", data=_stage_form(boss, csrf, won, label_zh="成交"))
    system_session.rollback()
    entry = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "opportunity_stage")).scalar_one()
    assert (entry.record_id, entry.action, entry.user_id, entry.changes) == (
        won.id, "update", org.boss.id, {"label_zh": ["赢单", "成交"]})
