"""The quote-to-cash chain of a record: what each module contributes (hook ``deal_chain``) and the totals.

Modules answer ``deal_chain(entity, record, user, session)`` with ``ChainStage`` objects (quotes, contracts,
delivery plans, orders, shipments, payment plans, payments, invoices); core orders them, adds up their
totals per kind and currency and derives outstanding = contracted - received (docs/money.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.money import to_decimal

KINDS = ("contracted", "shipped", "invoiced", "received")
OUTSTANDING = "outstanding"
TOTAL_KINDS = KINDS + (OUTSTANDING,)

# Position of each stage in the chain (ChainStage.position).
POSITIONS = {"quotes": 10, "contracts": 20, "delivery_plans": 30, "orders": 40, "shipments": 50,
             "payment_plans": 60, "payments": 70, "invoices": 80}


@dataclass
class ChainRow:
    """One record in a stage: its title (linked when ``url``), status, amount with its currency."""

    label: Any
    url: str | None = None
    status_label: Any = None
    amount: Decimal | None = None
    currency: str | None = None
    indent: int = 0  # 1 = a child of the row above (a shipment under its order)
    note: Any = ""  # optional small text: a date, "partial"


@dataclass
class ChainStage:
    """A module's part of the chain. ``totals``: kind (``KINDS``) -> currency -> amount."""

    position: int
    key: str
    label: Any
    rows: list[ChainRow] = field(default_factory=list)
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)


@dataclass
class Chain:
    """The stages in position order and the totals over all of them (``TOTAL_KINDS`` -> currency -> amount;
    every currency that appears anywhere has every kind, 0 where nothing was counted)."""

    stages: list[ChainStage]
    totals: dict[str, dict[str, Decimal]]
    currencies: list[str]

    def __bool__(self):
        return bool(self.stages)

    def total(self, kind: str, currency: str) -> Decimal:
        return self.totals.get(kind, {}).get(currency, Decimal(0))


def add_total(totals: dict, kind: str, currency: str, amount) -> None:
    """Add ``amount`` to ``totals[kind][currency]`` (a stage's totals dict)."""
    if kind not in KINDS:
        raise ValueError(f"unknown chain total {kind!r}; use one of {KINDS}")
    if amount is None:
        return
    if not currency:
        raise ValueError(f"{kind} amount {amount} has no currency")
    by_currency = totals.setdefault(kind, {})
    by_currency[currency] = by_currency.get(currency, Decimal(0)) + to_decimal(amount)


def combine(stages: list[ChainStage]) -> Chain:
    """Order ``stages`` and add up their totals (pure; ``collect`` gathers the stages first)."""
    ordered = sorted(stages, key=lambda stage: (stage.position, stage.key))
    sums: dict[str, dict[str, Decimal]] = {kind: {} for kind in KINDS}
    for stage in ordered:
        for kind, amounts in (stage.totals or {}).items():
            for currency, amount in amounts.items():
                add_total(sums, kind, currency, amount)
    currencies = sorted({currency for amounts in sums.values() for currency in amounts})
    totals = {kind: {c: sums[kind].get(c, Decimal(0)) for c in currencies} for kind in KINDS}
    totals[OUTSTANDING] = {c: totals["contracted"][c] - totals["received"][c] for c in currencies}
    return Chain(stages=ordered, totals=totals, currencies=currencies)


def collect(entity: str, record, user, session=None) -> Chain:
    """Every module's stages for ``record`` of ``entity`` as seen by ``user`` (read through ``session``, by
    default the request's scoped session), ordered, with the totals."""
    from core.runtime import current, db
    session = session if session is not None else db()
    answers = current().hook.deal_chain(entity=entity, record=record, user=user, session=session)
    stages = [stage for answer in answers for stage in answer or []]
    for stage in stages:
        if not isinstance(stage, ChainStage):
            raise TypeError(f"deal_chain must return ChainStage objects, not {type(stage).__name__}")
    return combine(stages)


__all__ = ["Chain", "ChainRow", "ChainStage", "KINDS", "OUTSTANDING", "POSITIONS", "TOTAL_KINDS", "add_total",
           "collect", "combine"]
