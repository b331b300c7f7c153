"""The demo company fills every bundled module through the ``demo_data`` hook (tests/core/test_cli.py covers
``guanxi demo`` itself and core's rows)."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from core import demo
from core.models import Contact, Customer, FollowUp, User
from core.testing import wipe
from plugins.leads.models import Lead, WebForm
from plugins.opportunities.models import Opportunity, OpportunityStage, OpportunityStageHistory
from plugins.pool.models import Pool, PoolMembership, PoolReminder
from plugins.projects.models import Project, ProjectContact, ProjectCustomer, Stage, StageHistory

TODAY = dt.date(2030, 1, 15)
OWNED = [Customer, Contact, FollowUp, Lead, Opportunity, Project]


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    monkeypatch.setattr(demo, "hash_password", lambda password: "not-a-real-hash")  # argon2: speed only


def generate(app, customers=60):
    gx = app.extensions["guanxi"]
    with app.test_request_context(), gx.system_session("test demo") as session:
        demo.generate(session, seed=7, customers=customers, today=TODAY)


def count(session, *columns, where=()):
    return session.execute(select(func.count()).select_from(*columns).where(*where)).scalar_one()


def test_demo_fills_leads_opportunities_projects_and_pool(app, gx):
    generate(app)
    with gx.system_session("test: read the demo") as session:
        statuses = dict(session.execute(select(Lead.status, func.count()).group_by(Lead.status)).all())
        assert set(statuses) == {"new", "contacted", "qualified", "unqualified", "converted"}
        assert 35 <= sum(statuses.values()) <= 45
        converted = session.execute(select(Lead, Customer).join(Customer, Customer.id == Lead.converted_customer_id)
                                    .where(Lead.status == "converted")).all()
        assert len(converted) == statuses["converted"]
        assert all(lead.owner_id == customer.owner_id and lead.converted_contact_id for lead, customer in converted)
        form = session.execute(select(WebForm)).scalar_one()
        assert len(form.token) >= 32 and count(session, Lead, where=[Lead.web_form_id == form.id]) >= 5

        deals = session.execute(select(Opportunity, OpportunityStage)
                                .join(OpportunityStage, OpportunityStage.id == Opportunity.stage_id)).all()
        assert 50 <= len(deals) <= 60
        kinds = {stage.kind for _deal, stage in deals}
        assert kinds == {"open", "won", "lost"} and len({stage.key for _deal, stage in deals}) == 6
        for deal, stage in deals:
            assert deal.currency == "CNY" and deal.amount > 0
            if stage.kind == "open":
                assert deal.close_reason is None and deal.closed_at is None
            else:
                assert deal.close_reason.startswith("win_" if stage.kind == "won" else "loss_")
                assert deal.closed_at.date() < TODAY and deal.expected_close < TODAY
        open_closes = [deal.expected_close for deal, stage in deals if stage.kind == "open"]
        assert min(open_closes) < TODAY < max(open_closes) <= TODAY + dt.timedelta(days=183)
        history = session.execute(select(OpportunityStageHistory).order_by(OpportunityStageHistory.id)).scalars().all()
        last_move = {row.opportunity_id: row for row in history}
        assert {deal.id: deal.stage_id for deal, _stage in deals} == {k: v.to_stage_id for k, v in last_move.items()}
        assert sum(row.from_stage_id is None for row in history) == len(deals)  # each one entered the pipeline once

        projects = session.execute(select(Project)).scalars().all()
        assert len(projects) == 12
        assert {p.stage_id for p in projects} == set(session.execute(select(Stage.id)).scalars())  # all 9
        assert count(session, ProjectCustomer) >= 12 and count(session, ProjectContact) >= 12
        assert count(session, StageHistory) >= 12 + 8  # one entry per stage reached
        project_follow_ups = session.execute(
            select(FollowUp).where(FollowUp.related_entity == "project")).scalars().all()
        assert {f.related_id for f in project_follow_ups} == {p.id for p in projects}
        assert any(f.next_follow_up == TODAY for f in project_follow_ups)
        assert any(f.next_follow_up and f.next_follow_up < TODAY for f in project_follow_ups)

        pools = {pool.department_id is None: pool for pool in session.execute(select(Pool)).unique().scalars()}
        assert set(pools) == {True, False} and all(pool.has_rules for pool in pools.values())
        sitting = session.execute(select(Customer, PoolMembership)
                                  .join(PoolMembership, PoolMembership.customer_id == Customer.id)).all()
        assert len(sitting) == 20
        assert all(c.owner_id is None and c.department_id == pools[m.pool_id == pools[True].id].department_id
                   for c, m in sitting)
        assert count(session, Contact, where=[Contact.customer_id.in_([c.id for c, _m in sitting]),
                                             Contact.owner_id.is_not(None)]) == 0
        reminders = session.execute(select(PoolReminder, Customer)
                                    .join(Customer, Customer.id == PoolReminder.customer_id)).all()
        assert reminders and all(r.owner_id == c.owner_id and r.due_date > TODAY for r, c in reminders)


def test_every_owned_demo_row_belongs_to_its_owners_department(app, gx):
    generate(app)
    with gx.system_session("test: read the demo") as session:
        for model in OWNED:
            rows = session.execute(select(model.department_id, User.department_id, User.login)
                                   .join(User, User.id == model.owner_id)).all()
            assert rows, model.__name__
            assert [row for row in rows if row[0] != row[1]] == [], model.__name__
        for model in (Lead, Opportunity, Project):  # the modules' rows: sales staff only
            logins = set(session.execute(select(User.login).join(model, model.owner_id == User.id)).scalars())
            assert logins and all(login.startswith(("rep_", "manager_")) for login in logins), model.__name__


def test_demo_works_with_a_module_disabled_and_modules_do_not_shift_each_other(app, gx, app_with):
    def leads_and_deals(target):
        target_gx = target.extensions["guanxi"]
        with target_gx.system_session("test: read the demo") as session:
            leads = session.execute(select(Lead.name, Lead.status, User.login).join(User, User.id == Lead.owner_id)
                                    .order_by(Lead.name, Lead.status, User.login)).all()
            deals = session.execute(select(Opportunity.name, Opportunity.amount).order_by(Opportunity.name)).all()
            pools = count(session, Pool)
        return leads, deals, pools

    generate(app, customers=40)
    everything = leads_and_deals(app)
    wipe(gx)
    without_pool = app_with(modules="leads,opportunities,projects")
    assert without_pool.extensions["guanxi"].pm.get_plugin("pool") is None
    generate(without_pool, customers=40)
    leads, deals, pools = leads_and_deals(without_pool)
    assert pools == 0 and leads and deals
    # each module draws from its own seeded generator: the same leads and deals with or without the pool
    assert (leads, deals) == everything[:2]
    with gx.system_session("test: core rows") as session:
        assert count(session, Customer) == 40 and count(session, Customer, where=[Customer.owner_id.is_(None)]) == 0
