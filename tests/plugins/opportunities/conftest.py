"""Fixtures of the opportunities tests: the stock stages (the test database is wiped before each test,
stages included) and a quick way to write opportunities as a given owner."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Customer
from plugins.opportunities.models import Opportunity, OpportunityStage
from plugins.opportunities.stages import ensure_stock_stages


def owned(user):
    return {"owner_id": user.id, "department_id": user.department_id}


@pytest.fixture
def stages(app, system_session):
    """key -> OpportunityStage of the stock pipeline."""
    ensure_stock_stages(system_session)
    system_session.commit()
    return {s.key: s for s in system_session.execute(select(OpportunityStage)).scalars()}


@pytest.fixture
def customer_of(system_session):
    def make(user, name="华宏贸易 Huahong"):
        customer = Customer(name=name, **owned(user))
        system_session.add(customer)
        system_session.commit()
        return customer
    return make


@pytest.fixture
def opportunity_of(system_session, stages, customer_of):
    """``opportunity_of(user, name, stage_key="initial_contact", amount="1000.00", **columns)``."""
    def make(user, name, stage_key="initial_contact", amount="1000.00", customer=None, **columns):
        customer = customer or customer_of(user)
        record = Opportunity(name=name, customer_id=customer.id, stage_id=stages[stage_key].id,
                             amount=Decimal(amount), currency=columns.pop("currency", "CNY"), custom={},
                             **owned(user), **columns)
        system_session.add(record)
        system_session.commit()
        return record
    return make


def card_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'id="opportunity-card-(\d+)"', html)}


def next_month(day: dt.date, months: int = 1) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, 1)
