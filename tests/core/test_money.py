"""core.money: the one rounding rule (half away from zero, per currency), line amounts, shares, sums per
currency and the localised ``money`` filter."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from flask import render_template_string
from hypothesis import HealthCheck, given, settings, strategies as st

from core import money

# a busy CI machine must not turn slow data generation into a failure (no timing in unit tests)
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_quantize_rounds_half_away_from_zero_to_minor_units():
    assert money.quantize(D("1.005"), "CNY") == D("1.01")
    assert money.quantize(D("1.0049"), "CNY") == D("1.00")
    assert money.quantize(D("-1.005"), "CNY") == D("-1.01")
    assert money.quantize(D("2.5"), "JPY") == D("3")
    assert money.quantize(D("-2.5"), "KRW") == D("-3")
    assert money.quantize("12", "USD") == D("12.00") and str(money.quantize("12", "USD")) == "12.00"
    assert str(money.quantize(7, "JPY")) == "7"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money.quantize(0.1, "CNY")
    with pytest.raises(TypeError):
        money.line_amounts(1, 0.5, 0, 0, "CNY")


def test_line_amounts_round_each_value_once():
    # 3 x 33.33 = 99.99; 10 % off = 89.991 -> 89.99; 13 % tax = 11.6987 -> 11.70
    line = money.line_amounts(D("3"), D("33.33"), D("10"), D("13"), "CNY")
    assert line == (D("89.99"), D("11.70"), D("101.69"))
    assert line.gross == line.net + line.tax
    # fractional quantity (Numeric(18,3)) and no discount or tax given
    assert money.line_amounts(D("1.255"), D("2.00"), None, None, "CNY") == (D("2.51"), D("0.00"), D("2.51"))
    # yen have no minor units
    assert money.line_amounts(2, D("333"), D("5"), D("10"), "JPY") == (D("633"), D("63"), D("696"))


def test_document_totals_are_sums_of_rounded_lines():
    lines = [money.line_amounts(1, D("0.333"), 0, 0, "CNY") for _ in range(3)]
    assert sum(line.net for line in lines) == D("0.99")  # not quantize(0.999) = 1.00


def test_share_of_a_fully_shipped_line_is_its_gross_exactly():
    assert money.share(D("100.00"), 1, 3, "CNY") == D("33.33")
    assert money.share(D("100.00"), 2, 3, "CNY") == D("66.67")
    assert money.share(D("100.00"), 3, 3, "CNY") == D("100.00")
    assert money.share(D("100.00"), 0, 0, "CNY") == D("0.00")
    assert money.share(D("10.00"), D("0.5"), D("1.5"), "CNY") == D("3.33")


@RELAXED
@given(gross=st.decimals(min_value=0, max_value=10**9, places=2),
       quantity=st.decimals(min_value=D("0.001"), max_value=10**6, places=3))
def test_share_is_monotonic_and_reaches_the_whole(gross, quantity):
    half = money.share(gross, quantity / 2, quantity, "CNY")
    assert D(0) <= half <= gross
    assert money.share(gross, quantity, quantity, "CNY") == gross


@RELAXED
@given(st.decimals(min_value=0, max_value=10**6, places=3), st.decimals(min_value=0, max_value=10**6, places=2),
       st.decimals(min_value=0, max_value=100, places=2), st.decimals(min_value=0, max_value=100, places=2))
def test_line_amounts_are_exact_in_minor_units(quantity, price, discount, rate):
    line = money.line_amounts(quantity, price, discount, rate, "CNY")
    assert line.gross == line.net + line.tax
    assert all(value == value.quantize(D("0.01")) for value in line)
    assert abs(line.net - quantity * price * (100 - discount) / 100) <= D("0.005")


def test_by_currency_sums_exactly_and_sorts_codes():
    sums = money.by_currency([(D("1.10"), "USD"), (D("2.20"), "CNY"), (None, "CNY"), (D("3.30"), "USD")])
    assert sums == {"CNY": D("2.20"), "USD": D("4.40")}
    assert list(sums) == ["CNY", "USD"]
    with pytest.raises(ValueError):
        money.by_currency([(D("1"), None)])


def test_currencies_and_default(app):
    assert "CNY" in money.CURRENCIES and "GBP" in money.CURRENCIES
    assert money.is_currency("JPY") and not money.is_currency("XXX") and not money.is_currency(None)
    assert money.minor_units("JPY") == 0 and money.minor_units("CNY") == 2
    with app.app_context():
        assert money.default_currency() == app.config["DEFAULT_CURRENCY"] == "CNY"
        assert ("CNY", "Chinese yuan (CNY)") in money.currency_choices()


def test_money_filter_is_localised(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert render_template_string("{{ a|money('CNY') }}", a=D("1234.5")) == "¥1,234.50"
        assert render_template_string("{{ a|money('USD') }}", a=D("12")) == "US$12.00"
        assert render_template_string("{{ a|money('CNY') }}", a=None) == ""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string("{{ a|money('JPY') }}", a=D("1234")) == "¥1,234"
        assert render_template_string("{{ a|money('CNY') }}", a=D("-5")) == "-CN¥5.00"
