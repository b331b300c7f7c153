"""The weighted forecast: exact Decimal figures per month and per owner, per currency, within the scope."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from core.scope import build_user_scope
from plugins.opportunities import services

from conftest import next_month


def _pipeline(org, opportunity_of):
    d = dt.date
    opportunity_of(org.rep_east, "A", "proposal", "10000.00", expected_close=d(2031, 3, 10))        # 50 %
    opportunity_of(org.rep_east, "B", "needs_confirmed", "3333.33", expected_close=d(2031, 3, 28))  # 30 %
    opportunity_of(org.rep_east, "C", "negotiation", "1234.56", expected_close=d(2031, 4, 2))       # 70 %
    opportunity_of(org.rep_east, "D", "initial_contact", "500.00", currency="USD",
                   expected_close=d(2031, 3, 1))                                                      # 10 %
    opportunity_of(org.rep_east, "E won", "won", "99999.00", close_reason="win_price",
                   expected_close=d(2031, 3, 5))                                                      # closed
    opportunity_of(org.rep_east, "F", "initial_contact", "777.77")                                   # no date
    opportunity_of(org.rep_east_sub, "G", "negotiation", "2000.00", expected_close=d(2031, 3, 15))
    opportunity_of(org.rep_west, "H", "proposal", "5000.00", expected_close=d(2031, 3, 1))          # other team


def _forecast_as(app, system_session, user):
    gx = app.extensions["guanxi"]
    session = gx.new_session(build_user_scope(system_session, user, gx.entities, gx.hook))
    try:
        return {block["currency"]: block for block in services.forecast(session)}
    finally:
        session.close()


def test_forecast_figures_are_exact(app, org, stages, opportunity_of, system_session):
    _pipeline(org, opportunity_of)
    blocks = _forecast_as(app, system_session, org.manager_east)
    assert sorted(blocks) == ["CNY", "USD"]
    cny = blocks["CNY"]
    months = {month: (f["count"], f["amount"], f["weighted"]) for month, f in cny["months"]}
    # March: A 10000.00×50 % + B 3333.33×30 % + G 2000.00×70 % = 5000 + 999.999 + 1400 = 7399.999 -> 7400.00
    assert months == {
        "2031-03": (3, Decimal("15333.33"), Decimal("7400.00")),
        "2031-04": (1, Decimal("1234.56"), Decimal("864.19")),    # 864.192
        None: (1, Decimal("777.77"), Decimal("77.78")),           # 77.777, rounded half-up once
    }
    assert [m for m, _f in cny["months"]] == ["2031-03", "2031-04", None]
    owners = {name: (f["count"], f["amount"], f["weighted"]) for _id, name, f in cny["owners"]}
    assert owners == {
        "张三 Zhang San": (4, Decimal("15345.66"), Decimal("6941.97")),   # 5000+999.999+864.192+77.777
        "李四 Li Si": (1, Decimal("2000.00"), Decimal("1400.00")),
    }
    assert (cny["total"]["count"], cny["total"]["amount"], cny["total"]["weighted"]) == (
        5, Decimal("17345.66"), Decimal("8341.97"))                  # 8341.968
    assert blocks["USD"]["months"] == [("2031-03", {"count": 1, "amount": Decimal("500.00"),
                                                    "weighted": Decimal("50.00")})]


def test_forecast_follows_the_data_scope(app, org, stages, opportunity_of, system_session):
    _pipeline(org, opportunity_of)
    west = _forecast_as(app, system_session, org.rep_west)
    assert list(west) == ["CNY"] and west["CNY"]["total"]["weighted"] == Decimal("2500.00")
    assert _forecast_as(app, system_session, org.service) == {}
    boss = _forecast_as(app, system_session, org.boss)
    assert boss["CNY"]["total"]["weighted"] == Decimal("10841.97")


def test_forecast_page_and_owner_filter(org, client_as, stages, opportunity_of):
    _pipeline(org, opportunity_of)
    manager = client_as(org.manager_east)
    html = manager.get("/opportunities/forecast").get_data(as_text=True)
    assert 'id="forecast-CNY"' in html and 'id="forecast-USD"' in html and "H" not in re.findall(r">(\w)<", html)
    march = html.split('data-month="2031-03"')[1].split("</tr>")[0]
    assert "15,333.33" in march and "7,400.00" in march
    assert 'data-chart=' in html and "chart.umd.min.js" in html and "<script>" not in html
    filtered = manager.get(f"/opportunities/forecast?owner={org.rep_east_sub.id}").get_data(as_text=True)
    assert "1,400.00" in filtered and "7,400.00" not in filtered and 'id="forecast-USD"' not in filtered


def test_dashboard_widget_shows_the_coming_months(app, org, client_as, stages, opportunity_of):
    from core.web.widgets import local_today
    with app.app_context():
        this_month = local_today().replace(day=1)
    opportunity_of(org.rep_east, "本月", "proposal", "300.00", expected_close=this_month)
    opportunity_of(org.rep_east, "下月", "negotiation", "1000.00", expected_close=next_month(this_month))
    opportunity_of(org.rep_east, "逾期", "needs_confirmed", "100.00",
                   expected_close=this_month - dt.timedelta(days=1))
    opportunity_of(org.rep_west, "华西", "negotiation", "9000.00", expected_close=this_month)
    html = client_as(org.rep_east).get("/").get_data(as_text=True)
    widget = html.split('id="widget-opportunity_forecast"')[1].split("</section>")[0]
    row = lambda key: widget.split(f'data-month="{key}"')[1].split("</tr>")[0]  # noqa: E731
    assert "150.00" in row(this_month.strftime("%Y-%m")) and "700.00" in row(next_month(this_month).strftime("%Y-%m"))
    assert "30.00" in row("overdue") and "0.00" in row(next_month(this_month, 2).strftime("%Y-%m"))
    assert "880.00" in widget.split("data-total-weighted>")[1] and "6,300.00" not in widget
    service = client_as(org.service).get("/").get_data(as_text=True)
    assert 'id="widget-opportunity_forecast"' not in service  # no opportunity permission, no tile
