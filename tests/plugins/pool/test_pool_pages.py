"""Reminders (dashboard widget, "at risk" page, dismiss), pool administration, Chinese pages, query counts."""
from __future__ import annotations

from types import SimpleNamespace

from core import jobs
from plugins.pool.models import Pool


def html(response):
    return response.get_data(as_text=True)


def remind(app, org, make_pool, make_customer):
    make_pool("华东公海", org.departments["east"], days_without_follow_up=30, warn_days_before=5)
    customer = make_customer("Soon Co", org.rep_east, follow_up_days_ago=27)
    jobs.enqueue(app, "pool.apply_rules")
    return customer


def test_the_owner_sees_and_dismisses_his_reminders(app, org, client_as, csrf, make_pool, make_customer, read):
    customer = remind(app, org, make_pool, make_customer)
    [reminder] = read.reminders(customer)
    owner = client_as(org.rep_east)

    dashboard = html(owner.get("/"))
    assert "Customers returning to the pool soon" in dashboard and "Soon Co" in dashboard
    assert f"/r/customer/{customer}" in dashboard
    at_risk = html(owner.get("/pool/at-risk"))
    assert "Soon Co" in at_risk and "Rule: no follow-up" in at_risk
    assert "Soon Co" not in html(client_as(org.rep_west).get("/pool/at-risk"))
    assert "Soon Co" not in html(client_as(org.rep_west).get("/"))

    assert owner.post(f"/pool/reminders/{reminder.id}/dismiss").status_code == 400  # no CSRF token
    other = client_as(org.rep_west)
    assert other.post(f"/pool/reminders/{reminder.id}/dismiss",
                      data={"csrf_token": csrf(other)}).status_code == 404  # not his reminder
    assert read.reminders(customer)[0].dismissed_at is None
    done = owner.post(f"/pool/reminders/{reminder.id}/dismiss", data={"csrf_token": csrf(owner)})

    assert done.status_code == 302
    assert read.reminders(customer)[0].dismissed_at is not None
    assert "Soon Co" not in html(owner.get("/pool/at-risk"))
    jobs.enqueue(app, "pool.apply_rules")  # the same due date is not reminded again
    assert len(read.reminders(customer)) == 1


def test_boss_creates_and_edits_a_pool_with_errors_at_the_field(org, client_as, csrf, gx):
    boss = client_as(org.boss)
    assert "Customer pools" in html(boss.get("/"))
    bad = boss.post("/pool/admin/new", data={"csrf_token": csrf(boss), "name": "",
                                             "days_without_follow_up": "0", "warn_days_before": "abc",
                                             "department_id": str(org.departments["east"].id)})
    page = html(bad)
    assert bad.status_code == 400
    assert 'data-field="name"><div>This field is required.' in page
    assert 'data-field="days_without_follow_up"><div>Enter a whole number of at least 1' in page
    assert 'data-field="warn_days_before"><div>Not a valid whole number.' in page
    assert 'value="abc"' in page  # what was typed is kept

    too_late = boss.post("/pool/admin/new", data={"csrf_token": csrf(boss), "name": "East",
                                                  "days_without_follow_up": "7", "warn_days_before": "7"})
    assert 'data-field="warn_days_before"><div>The reminder must come before the shortest rule (7 days).' \
        in html(too_late)

    created = boss.post("/pool/admin/new", data={
        "csrf_token": csrf(boss), "name": "华东公海", "department_id": str(org.departments["east"].id),
        "days_without_follow_up": "30", "days_without_deal": "", "warn_days_before": "5", "capacity": "200",
        "active": "on"})
    assert created.status_code == 302
    with gx.system_session("test: read pool") as session:
        pool = session.query(Pool).one()
        assert (pool.department_id, pool.days_without_follow_up, pool.days_without_deal, pool.warn_days_before,
                pool.capacity, pool.active) == (org.departments["east"].id, 30, None, 5, 200, True)
    assert "华东公海" in html(boss.get("/pool/admin"))

    boss.post(f"/pool/admin/{pool.id}/edit", data={"csrf_token": csrf(boss), "name": "华东公海",
                                                   "department_id": "", "days_without_follow_up": "",
                                                   "warn_days_before": "2", "capacity": ""})
    with gx.system_session("test: read pool") as session:
        pool = session.query(Pool).one()
        assert (pool.department_id, pool.days_without_follow_up, pool.capacity, pool.active) == \
            (None, None, None, False)


def test_pool_pages_in_chinese(org, client_as, make_pool, make_customer, read):
    pool = make_pool("全公司公海", days_without_follow_up=30)
    make_customer("苏州精密机械", pool_id=pool)
    read.set_language(org.rep_east, "zh_CN")
    rep = client_as(org.rep_east)

    index = html(rep.get("/pool/"))
    listing = html(rep.get(f"/pool/{pool}"))

    assert "客户公海" in index and "全公司" in index and "30 天无跟进" in index
    assert "领取" in listing and "导入" in listing and "苏州精密机械" in listing
    assert "Claim" not in listing


def test_the_pool_page_costs_the_same_queries_for_5_or_40_customers(org, client_as, make_pool, make_customer,
                                                                    count_queries):
    pool = make_pool("Company pool")
    rep = client_as(org.rep_east)

    def queries_for(count):
        for i in range(count):
            make_customer(f"Pool customer {i}", pool_id=pool)
        rep.get(f"/pool/{pool}")  # warm
        with count_queries() as counter:
            assert rep.get(f"/pool/{pool}").status_code == 200
        return counter.count

    few = queries_for(5)
    many = queries_for(35)
    assert few == many and few <= 12, (few, many)


def test_the_pool_page_pages_by_entry(org, client_as, make_pool, make_customer):
    pool = make_pool("Company pool")
    for i in range(55):
        make_customer(f"Paged {i:02d}", pool_id=pool)
    rep = client_as(org.rep_east)
    first = html(rep.get(f"/pool/{pool}"))
    assert "Paged 54" in first and "Paged 04" not in first and 'rel="next"' in first
    cursor = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = html(rep.get(cursor))
    assert "Paged 04" in second and "Paged 54" not in second and 'rel="next"' not in second
    assert "Paged 07" in html(rep.get(f"/pool/{pool}?q=Paged 07"))



def test_a_department_serving_a_pool_cannot_be_deleted(app, org, client_as, csrf, make_pool, gx):
    from core import orgservice

    with app.test_request_context(), gx.system_session("test: department") as session:
        archive_id = orgservice.create_department(session, "Archive", org.departments["hq"].id).id
    pool_id = make_pool("Archive pool", department=SimpleNamespace(id=archive_id))
    admin = client_as(org.admin)
    refused = admin.post(f"/admin/departments/{archive_id}/delete", data={"csrf_token": csrf(admin)})
    assert refused.status_code == 422
    assert "Other records still refer to this department" in refused.get_data(as_text=True)
    with gx.system_session("test: drop pool") as session:
        session.delete(session.get(Pool, pool_id))
        session.commit()
    assert admin.post(f"/admin/departments/{archive_id}/delete",
                      data={"csrf_token": csrf(admin)}).status_code == 302
