"""Money: Decimal amounts that always carry a currency, and the one rounding rule (docs/money.md).

Every amount is rounded to its currency's minor units, half away from zero (``ROUND_HALF_UP``), once per
line value; document totals are sums of rounded line values and are never rounded again.
"""
from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, NamedTuple

from core.i18n import _l

# code -> label; the order is the order of currency choices in forms.
CURRENCIES = {
    "CNY": _l("Chinese yuan (CNY)"),
    "USD": _l("US dollar (USD)"),
    "EUR": _l("Euro (EUR)"),
    "GBP": _l("Pound sterling (GBP)"),
    "HKD": _l("Hong Kong dollar (HKD)"),
    "JPY": _l("Japanese yen (JPY)"),
    "KRW": _l("South Korean won (KRW)"),
    "SGD": _l("Singapore dollar (SGD)"),
    "AUD": _l("Australian dollar (AUD)"),
    "CAD": _l("Canadian dollar (CAD)"),
}

# Currencies without the usual two decimal places (ISO 4217 minor units).
_MINOR_UNITS = {"JPY": 0, "KRW": 0}

# Enough digits for Numeric(18, 3) x Numeric(18, 2) x percentages without any intermediate rounding.
_CONTEXT = decimal.Context(prec=60, rounding=ROUND_HALF_UP)


class LineAmounts(NamedTuple):
    net: Decimal
    tax: Decimal
    gross: Decimal


def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` (2 unless listed otherwise)."""
    return _MINOR_UNITS.get((currency or "").upper(), 2)


def is_currency(code) -> bool:
    return isinstance(code, str) and code in CURRENCIES


def currency_choices() -> list[tuple[str, str]]:
    """``[(code, label)]`` for a select field (labels in the current language)."""
    return [(code, str(label)) for code, label in CURRENCIES.items()]


def default_currency() -> str:
    """The instance's currency (config ``DEFAULT_CURRENCY``, "CNY"); "CNY" outside an app context."""
    from flask import current_app, has_app_context
    if has_app_context():
        return current_app.config.get("DEFAULT_CURRENCY") or "CNY"
    return "CNY"


def to_decimal(value) -> Decimal:
    """A Decimal from a Decimal, int or string; floats are refused (binary fractions are not money)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must not be a {type(value).__name__}: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value.strip())
    raise TypeError(f"not an amount: {value!r}")


def quantize(amount, currency: str) -> Decimal:
    """``amount`` rounded half away from zero to the minor units of ``currency``."""
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP, context=_CONTEXT)


def zero(currency: str) -> Decimal:
    return quantize(0, currency)


def line_amounts(quantity, unit_price, discount_percent, tax_rate_percent, currency: str) -> LineAmounts:
    """Net, tax and gross of one line; each rounded once, gross = net + tax exactly.

    net = quantize(quantity x unit_price x (100 - discount) / 100); tax = quantize(net x rate / 100).
    A missing discount or tax rate counts as 0.
    """
    quantity, unit_price = to_decimal(quantity), to_decimal(unit_price)
    discount = to_decimal(discount_percent if discount_percent is not None else 0)
    rate = to_decimal(tax_rate_percent if tax_rate_percent is not None else 0)
    with decimal.localcontext(_CONTEXT):
        net = quantize(quantity * unit_price * (100 - discount) / 100, currency)
        tax = quantize(net * rate / 100, currency)
    return LineAmounts(net, tax, net + tax)


def share(total, part_quantity, whole_quantity, currency: str) -> Decimal:
    """The part of ``total`` that ``part_quantity`` of ``whole_quantity`` is worth, rounded once:
    quantize(total x part / whole). A whole of 0 is worth nothing; part = whole gives ``total`` exactly."""
    total, part, whole = to_decimal(total), to_decimal(part_quantity), to_decimal(whole_quantity)
    if whole == 0:
        return zero(currency)
    if part == whole:
        return quantize(total, currency)
    with decimal.localcontext(_CONTEXT):
        return quantize(total * part / whole, currency)


def by_currency(pairs: Iterable[tuple]) -> dict[str, Decimal]:
    """``{currency: sum}`` of ``(amount, currency)`` pairs, sorted by currency code; ``None`` amounts are
    skipped. The sum is exact (inputs are already rounded values; nothing is re-rounded)."""
    sums: dict[str, Decimal] = {}
    for amount, currency in pairs:
        if amount is None:
            continue
        if not currency:
            raise ValueError(f"amount {amount} has no currency")
        with decimal.localcontext(_CONTEXT):
            sums[currency] = sums.get(currency, Decimal(0)) + to_decimal(amount)
    return {code: sums[code] for code in sorted(sums)}


def format_money(amount, currency: str | None, locale=None) -> str:
    """``amount`` with its currency symbol in the current (or given) locale: "¥1,234.50", "US$12.00".
    ``None`` gives ""; an amount without currency is printed as a plain number."""
    from babel.numbers import format_currency, format_decimal
    if amount is None:
        return ""
    locale = locale or _current_locale()
    amount = to_decimal(amount)
    if not currency:
        return format_decimal(amount, locale=locale, decimal_quantization=False)
    return format_currency(quantize(amount, currency), currency, locale=locale)


def _current_locale():
    from flask import current_app, has_app_context, has_request_context
    from flask_babel import get_locale
    if has_request_context():
        locale = get_locale()
        if locale is not None:
            return locale
    if has_app_context():
        return current_app.config.get("DEFAULT_LANGUAGE", "en")
    return "en"


__all__ = [
    "CURRENCIES", "LineAmounts", "by_currency", "currency_choices", "default_currency", "format_money",
    "is_currency", "line_amounts", "minor_units", "quantize", "share", "to_decimal", "zero",
]
