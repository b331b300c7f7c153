"""The pipeline board: columns and totals, the stage move (form, JSON, drag), scope, history, conflicts."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.models import AuditEntry
from plugins.opportunities.models import Opportunity, OpportunityStageHistory

from conftest import card_ids


def _move(client, csrf, record, stage, version=None, json=False, **extra):
    data = {"csrf_token": csrf(client, "/opportunities/board"), "stage_id": str(stage.id),
            "version": str(record.version if version is None else version), **extra}
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/opportunities/{record.id}/move", data=data, headers=headers)


def _fresh(system_session, record_id):
    system_session.rollback()  # end the snapshot (MariaDB reads repeatably within one)
    system_session.expire_all()
    return system_session.execute(select(Opportunity).where(Opportunity.id == record_id)).scalar_one()


def test_board_shows_a_column_per_active_stage_with_totals(org, client_as, stages, opportunity_of):
    opportunity_of(org.rep_east, "东方电气扩容", "proposal", amount="1000.00")
    opportunity_of(org.rep_east, "西湖软件升级", "proposal", amount="234.50")
    html = client_as(org.rep_east).get("/opportunities/board").get_data(as_text=True)
    for stage in stages.values():
        assert f'id="stage-column-{stage.id}"' in html
    column = html.split(f'id="stage-column-{stages["proposal"].id}"')[1].split("</section>")[0]
    assert "东方电气扩容" in column and "西湖软件升级" in column
    # 1,234.50 at 50 %: weighted 617.25
    assert "Total 1,234.50 CNY" in column and "Weighted 617.25 CNY" in column
    assert 'data-column-count>2<' in column


def test_salesperson_moves_own_card_with_history_and_audit(org, client_as, csrf, stages, opportunity_of,
                                                            system_session):
    record = opportunity_of(org.rep_east, "东方电气扩容")
    version = record.version
    rep = client_as(org.rep_east)
    response = _move(rep, csrf, record, stages["needs_confirmed"], next="/opportunities/board")
    assert response.status_code == 302 and response.headers["Location"].endswith("/opportunities/board")
    moved = _fresh(system_session, record.id)
    assert moved.stage_id == stages["needs_confirmed"].id and moved.version == version + 1
    history = system_session.execute(select(OpportunityStageHistory).where(
        OpportunityStageHistory.opportunity_id == record.id)).scalars().all()
    assert [(h.from_stage_id, h.to_stage_id, h.changed_by_id) for h in history] == [
        (stages["initial_contact"].id, stages["needs_confirmed"].id, org.rep_east.id)]
    audit = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "opportunity",
                                                            AuditEntry.record_id == record.id)).scalars().all()
    assert [a.action for a in audit] == ["update"]
    assert audit[0].changes["stage_id"] == [stages["initial_contact"].id, stages["needs_confirmed"].id]


def test_json_move_returns_the_new_version_and_column_totals(org, client_as, csrf, stages, opportunity_of):
    record = opportunity_of(org.rep_east, "东方电气扩容", amount="2000.00")
    response = _move(client_as(org.rep_east), csrf, record, stages["negotiation"], json=True)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] and body["version"] == record.version + 1 and body["stage_id"] == stages["negotiation"].id
    assert body["columns"][str(stages["negotiation"].id)] == {"count": 1, "totals": [["CNY", "2,000.00", "1,400.00"]]}
    assert body["columns"][str(stages["initial_contact"].id)] == {"count": 0, "totals": []}


def test_another_salespersons_card_cannot_be_moved(org, client_as, csrf, stages, opportunity_of, system_session):
    record = opportunity_of(org.rep_east, "东方电气扩容")
    west = client_as(org.rep_west)
    assert _move(west, csrf, record, stages["proposal"]).status_code == 404
    assert _move(west, csrf, record, stages["proposal"], json=True).status_code == 404
    # the same department's manager may (team scope), a colleague in a sub-team may not
    assert _move(client_as(org.rep_east_sub), csrf, record, stages["proposal"]).status_code == 404
    assert _fresh(system_session, record.id).stage_id == stages["initial_contact"].id
    assert _move(client_as(org.manager_east), csrf, record, stages["proposal"]).status_code == 302
    assert _fresh(system_session, record.id).stage_id == stages["proposal"].id


def test_stale_version_is_refused_with_409(org, client_as, csrf, stages, opportunity_of, system_session):
    record = opportunity_of(org.rep_east, "东方电气扩容")
    version = record.version
    rep = client_as(org.rep_east)
    assert _move(rep, csrf, record, stages["proposal"], json=True).status_code == 200
    stale = _move(rep, csrf, record, stages["negotiation"], version=version, json=True)
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale"
    assert "Someone else changed" in stale.get_json()["message"]
    assert _fresh(system_session, record.id).stage_id == stages["proposal"].id
    # the no-JS form: back to the board with the message
    page = _move(rep, csrf, record, stages["negotiation"], version=version, next="/opportunities/board")
    assert page.status_code == 302
    assert "Someone else changed" in rep.get("/opportunities/board").get_data(as_text=True)
    assert len(system_session.execute(select(OpportunityStageHistory).where(
        OpportunityStageHistory.opportunity_id == record.id)).scalars().all()) == 1


def test_won_needs_a_reason(org, client_as, csrf, stages, opportunity_of, system_session):
    record = opportunity_of(org.rep_east, "东方电气扩容")
    rep = client_as(org.rep_east)
    refused = _move(rep, csrf, record, stages["won"], json=True)
    assert refused.status_code == 422 and refused.get_json()["error"] == "reason_required"
    assert [r[0] for r in refused.get_json()["reasons"]][:2] == ["win_price", "win_product"]
    # without JavaScript the card's form leads to the reason form
    no_js = _move(rep, csrf, record, stages["won"])
    assert no_js.status_code == 302 and f"/opportunities/{record.id}/close?stage_id={stages['won'].id}" in \
        no_js.headers["Location"]
    form = rep.get(no_js.headers["Location"]).get_data(as_text=True)
    assert 'name="close_reason"' in form and "Won: better price" in form and "Lost: no budget" not in form
    assert _fresh(system_session, record.id).stage_id == stages["initial_contact"].id
    # a loss reason does not explain a win
    assert _move(rep, csrf, record, stages["won"], json=True, close_reason="loss_price").status_code == 422
    done = _move(rep, csrf, record, stages["won"], json=True, close_reason="win_relationship",
                 close_note="老客户介绍")
    assert done.status_code == 200
    won = _fresh(system_session, record.id)
    assert won.close_reason == "win_relationship" and won.close_note == "老客户介绍" and won.closed_at is not None
    # reopening clears the close date and reason
    assert _move(rep, csrf, won, stages["negotiation"], json=True).status_code == 200
    reopened = _fresh(system_session, record.id)
    assert reopened.closed_at is None and reopened.close_reason is None


def test_manager_sees_team_pipeline_other_team_sees_none(org, client_as, stages, opportunity_of):
    east = opportunity_of(org.rep_east, "华东-东方电气")
    east_sub = opportunity_of(org.rep_east_sub, "华东一组-苏州精密")
    west = opportunity_of(org.rep_west, "华西-成都软件")
    board = lambda user: card_ids(client_as(user).get("/opportunities/board").get_data(as_text=True))  # noqa: E731
    assert board(org.manager_east) == {east.id, east_sub.id}
    assert board(org.rep_west) == {west.id}
    assert board(org.manager_west) == {west.id}
    assert board(org.rep_east) == {east.id}
    assert board(org.boss) == {east.id, east_sub.id, west.id}
    # the column totals are scoped too
    html = client_as(org.rep_west).get("/opportunities/board").get_data(as_text=True)
    assert "华东" not in html and "Total 1,000.00 CNY" in html and "Total 2,000.00" not in html


def test_board_filters_by_owner_and_close_month(org, client_as, stages, opportunity_of):
    import datetime as dt
    may = opportunity_of(org.rep_east, "五月", expected_close=dt.date(2031, 5, 31))
    june = opportunity_of(org.rep_east, "六月", expected_close=dt.date(2031, 6, 1))
    sub = opportunity_of(org.rep_east_sub, "一组五月", expected_close=dt.date(2031, 5, 2))
    manager = client_as(org.manager_east)
    assert card_ids(manager.get("/opportunities/board?month=2031-05").get_data(as_text=True)) == {may.id, sub.id}
    assert card_ids(manager.get(f"/opportunities/board?owner={org.rep_east.id}").get_data(as_text=True)) == \
        {may.id, june.id}
    # another team's owner id in the filter shows nothing of theirs
    assert card_ids(client_as(org.rep_west).get(f"/opportunities/board?owner={org.rep_east.id}")
                    .get_data(as_text=True)) == set()


def test_card_markup_for_scripts_and_forms(org, client_as, stages, opportunity_of):
    mine = opportunity_of(org.rep_east, "东方电气扩容")
    other = opportunity_of(org.rep_east_sub, "一组")
    html = client_as(org.manager_east).get("/opportunities/board").get_data(as_text=True)
    assert f'data-opportunity-id="{mine.id}"' in html and f'data-version="{mine.version}"' in html
    assert f'id="move-stage-{mine.id}"' in html and 'draggable="true"' in html
    assert '/opportunities/assets/board.js' in html and "<script>" not in html and " onclick=" not in html
    rep_html = client_as(org.rep_east).get("/opportunities/board").get_data(as_text=True)
    assert f"opportunity-card-{other.id}" not in rep_html
    script = client_as(org.rep_east).get("/opportunities/assets/board.js")
    assert script.status_code == 200 and b"csrf-token" in script.data


def test_board_query_count_is_bounded(org, client_as, stages, opportunity_of, customer_of, count_queries):
    rep = client_as(org.manager_east)
    opportunity_of(org.rep_east, "一")
    rep.get("/opportunities/board")
    with count_queries() as few:
        assert rep.get("/opportunities/board").status_code == 200
    for number in range(30):
        owner = org.rep_east if number % 2 else org.rep_east_sub
        opportunity_of(owner, f"机会 {number}", list(stages)[number % 6],
                       customer=customer_of(owner, f"客户 {number}"))
    with count_queries() as many:
        assert rep.get("/opportunities/board").status_code == 200
    assert many.count == few.count, many.statements
    assert many.count <= 25


def test_list_and_detail_pages_stay_bounded(org, client_as, csrf, stages, opportunity_of, count_queries):
    record = opportunity_of(org.rep_east, "东方电气扩容")
    rep = client_as(org.rep_east)
    version = _move_json(rep, csrf, record.id, stages["needs_confirmed"], record.version)
    rep.get(f"/r/opportunity/{record.id}")  # warm-up (session bookkeeping of the first request)
    with count_queries() as before:  # one stage change and one audit entry: every lookup is needed once
        assert rep.get(f"/r/opportunity/{record.id}").status_code == 200
    for stage in ("proposal", "negotiation", "proposal", "needs_confirmed"):
        version = _move_json(rep, csrf, record.id, stages[stage], version)
    rep.get(f"/r/opportunity/{record.id}")
    with count_queries() as after:
        detail = rep.get(f"/r/opportunity/{record.id}")
    assert after.count == before.count and detail.get_data(as_text=True).count("data-history-id") == 5
    for number in range(12):
        opportunity_of(org.rep_east, f"机会 {number}", list(stages)[number % 4])
    with count_queries() as listing:
        page = rep.get(f"/r/opportunity/?f_stage_id={stages['proposal'].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Proposal / quote" in html and listing.count <= 30
    assert len(set(re.findall(r'href="/r/opportunity/(\d+)"', html))) == 3


def _move_json(client, csrf, record_id, stage, version):
    response = client.post(f"/opportunities/{record_id}/move", headers={"Accept": "application/json"}, data={
        "csrf_token": csrf(client, "/opportunities/board"), "stage_id": str(stage.id), "version": str(version)})
    assert response.status_code == 200
    return response.get_json()["version"]
