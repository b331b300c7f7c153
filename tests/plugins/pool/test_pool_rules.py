"""The nightly rules job: neglected customers go back to their pool, owners are warned first."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import jobs
from core.models import Customer
from hooks import hookimpl
from plugins.pool import rules
from plugins.pool.models import PoolClaim

RESULT_TIMEOUT = 30


def run_job(app):
    """The scheduled job, queued as "run now" (the memory queue runs it at once, as the worker would)."""
    jobs.enqueue(app, "pool.apply_rules")
    last = jobs.jobs_for(app).last_run("pool.apply_rules")
    assert last["status"] == "done", last
    return last


def test_the_real_scheduled_job_returns_a_neglected_customer_through_the_consumer(
        app_with, consumer_for, org, make_pool, make_customer, read, tmp_path):
    app = app_with(QUEUE="sqlite", INSTANCE_PATH=str(tmp_path))
    queue = jobs.jobs_for(app)
    assert "pool.apply_rules" in queue.periodic_names()
    east_pool = make_pool("华东公海", org.departments["east"], days_without_follow_up=30, warn_days_before=5)
    neglected = make_customer("Neglected Co", org.rep_east, follow_up_days_ago=40)
    recent = make_customer("Recent Co", org.rep_east, follow_up_days_ago=2)
    at_risk = make_customer("At Risk Co", org.rep_east_sub, follow_up_days_ago=27)  # East-1: under East
    west = make_customer("West Co", org.rep_west, follow_up_days_ago=90)  # no pool covers the West
    consumer_for(app, workers=1)

    jobs.enqueue(app, "pool.apply_rules")

    assert jobs.wait_until(lambda: queue.last_run("pool.apply_rules") is not None, timeout=RESULT_TIMEOUT)
    assert queue.last_run("pool.apply_rules")["status"] == "done", queue.last_run("pool.apply_rules")
    gone = read.customer(neglected)
    assert gone.owner_id is None and gone.department_id == org.departments["east"].id
    membership = read.membership(neglected)
    assert (membership.pool_id, membership.reason, membership.previous_owner_id) == \
        (east_pool, "no_follow_up", org.rep_east.id)
    assert [(action, user) for action, user, _changes in read.audit(neglected)] == [("pool_return", None)]
    assert read.audit(neglected)[0][2]["owner_id"] == [org.rep_east.id, None]
    for kept, owner in ((recent, org.rep_east), (at_risk, org.rep_east_sub), (west, org.rep_west)):
        assert read.customer(kept).owner_id == owner.id
        assert read.membership(kept) is None
    [reminder] = read.reminders()
    assert (reminder.customer_id, reminder.owner_id, reminder.reason) == (at_risk, org.rep_east_sub.id,
                                                                          "no_follow_up")
    assert reminder.due_date == (rules_today(app) - dt.timedelta(days=27) + dt.timedelta(days=30))


def rules_today(app):
    with app.app_context():
        from core.web.display import local_timezone
        return dt.datetime.now(local_timezone()).date()


def test_reminders_are_created_once_and_only_inside_the_warning_window(app, org, make_pool, make_customer, read):
    make_pool("East", org.departments["east"], days_without_follow_up=30, warn_days_before=5)
    inside = make_customer("Inside Co", org.rep_east, follow_up_days_ago=26)  # returns in 4 days
    edge = make_customer("Edge Co", org.rep_east, follow_up_days_ago=25)  # in 5 days: warned today
    outside = make_customer("Outside Co", org.rep_east, follow_up_days_ago=24)  # in 6 days: not yet

    first = run_job(app)
    run_job(app)
    run_job(app)

    assert "'reminded': 2" in first["result"]
    assert sorted(r.customer_id for r in read.reminders()) == sorted([inside, edge])
    assert read.reminders(outside) == []
    assert all(read.customer(c).owner_id == org.rep_east.id for c in (inside, edge, outside))


def test_a_new_customer_without_follow_up_counts_from_its_creation(app, org, make_pool, make_customer, read):
    make_pool("East", org.departments["east"], days_without_follow_up=30, warn_days_before=0)
    young = make_customer("Young Co", org.rep_east, created_days_ago=10)
    old = make_customer("Old Co", org.rep_east, created_days_ago=31)

    run_job(app)

    assert read.customer(young).owner_id == org.rep_east.id
    assert read.customer(old).owner_id is None and read.membership(old).reason == "no_follow_up"


def test_nearest_department_pool_wins_and_the_company_pool_takes_the_rest(app, org, make_pool, make_customer,
                                                                         read):
    company = make_pool("全公司公海", None, days_without_follow_up=60, warn_days_before=0)
    east = make_pool("East", org.departments["east"], days_without_follow_up=10, warn_days_before=0)
    east_sub = make_customer("East-1 Co", org.rep_east_sub, follow_up_days_ago=20)  # East's 10 days apply
    west_young = make_customer("West Young", org.rep_west, follow_up_days_ago=20)  # company: 60 days
    west_old = make_customer("West Old", org.rep_west, follow_up_days_ago=61)

    run_job(app)

    assert read.membership(east_sub).pool_id == east
    assert read.customer(west_young).owner_id == org.rep_west.id
    assert read.membership(west_old).pool_id == company
    assert read.customer(west_old).department_id is None  # company-wide pool: no department


def test_a_pool_without_rules_or_inactive_returns_nobody(app, org, make_pool, make_customer, read):
    make_pool("East, no rules", org.departments["east"])
    make_pool("West, inactive", org.departments["west"], days_without_follow_up=1, active=False)
    east = make_customer("East Co", org.rep_east, follow_up_days_ago=400)
    west = make_customer("West Co", org.rep_west, follow_up_days_ago=400)

    run_job(app)

    assert read.customer(east).owner_id == org.rep_east.id and read.customer(west).owner_id == org.rep_west.id


def test_claiming_restarts_the_clock(app, gx, org, make_pool, make_customer, read):
    make_pool("East", org.departments["east"], days_without_follow_up=30, warn_days_before=0)
    claimed = make_customer("Claimed Co", org.rep_east, follow_up_days_ago=200)
    with gx.system_session("test: claimed yesterday") as session:
        session.add(PoolClaim(customer_id=claimed, user_id=org.rep_east.id,
                              claimed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)))
        session.commit()

    run_job(app)

    assert read.customer(claimed).owner_id == org.rep_east.id


class Deals:
    """A stand-in for the opportunities module: the deal dates it knows."""

    def __init__(self, dates):
        self.dates = dates

    @hookimpl
    def pool_deal_dates(self, session, customer_ids):
        names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))).all())
        return {cid: self.dates[name] for cid, name in names.items() if name in self.dates}


def test_deal_dates_from_every_plugin_keep_customers_with_a_recent_deal(app_with, org, make_pool, make_customer,
                                                                        read):
    today = dt.date.today()
    recent_deal = today - dt.timedelta(days=10)
    other = app_with(plugins=[
        ("deals_a", Deals({"Dealt Co": today - dt.timedelta(days=200), "Old Deal Co": today - dt.timedelta(days=95)})),
        ("deals_b", Deals({"Dealt Co": recent_deal})),  # the latest answer counts
    ])
    make_pool("East", org.departments["east"], days_without_deal=90, warn_days_before=7)
    dealt = make_customer("Dealt Co", org.rep_east, created_days_ago=300)
    old_deal = make_customer("Old Deal Co", org.rep_east, created_days_ago=300)
    never = make_customer("Never Co", org.rep_east, created_days_ago=300, follow_up_days_ago=1)
    warned = make_customer("Warned Co", org.rep_east, created_days_ago=85)  # no deal: counts from creation

    with other.app_context(), other.extensions["guanxi"].system_session("test: deal dates") as session:
        assert rules.latest_deal_dates(session, [dealt, old_deal, never]) == {
            dealt: recent_deal, old_deal: today - dt.timedelta(days=95)}
    run_job(other)

    assert read.customer(dealt).owner_id == org.rep_east.id
    assert read.membership(old_deal).reason == "no_deal"
    assert read.membership(never).reason == "no_deal"  # a recent follow-up does not help: the rule is deals
    [reminder] = read.reminders()
    assert (reminder.customer_id, reminder.reason) == (warned, "no_deal")


def test_the_job_works_in_batches(app, gx, org, make_pool, make_customer, read):
    make_pool("East", org.departments["east"], days_without_follow_up=30, warn_days_before=0)
    neglected = [make_customer(f"Batch {i}", org.rep_east, follow_up_days_ago=31 + i) for i in range(7)]
    kept = [make_customer(f"Kept {i}", org.rep_east, follow_up_days_ago=1) for i in range(3)]

    with app.app_context(), gx.system_session("test: small batches") as session:
        summary = rules.apply_pool_rules(session, batch=2)

    assert summary["returned"] == 7 and summary["checked"] == 10
    assert all(read.customer(c).owner_id is None for c in neglected)
    assert all(read.customer(c).owner_id == org.rep_east.id for c in kept)


def test_customers_without_owner_join_the_pool_that_covers_them(app, org, make_pool, make_customer, read):
    company = make_pool("Company pool")
    east = make_pool("East pool", org.departments["east"])
    east_orphan = make_customer("East orphan", department=org.departments["east1"])
    nowhere = make_customer("No department")

    run_job(app)
    run_job(app)

    assert (read.membership(east_orphan).pool_id, read.membership(east_orphan).reason) == (east, "imported")
    assert read.membership(nowhere).pool_id == company
