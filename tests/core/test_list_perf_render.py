"""The list page formats its cells in one Python pass (``display.list_rows``) instead of asking
``display.record_cell`` and a Jinja macro for each of ~350 cells: same texts, links and muted cells as
``record_cell``, in every language and time zone; fewer queries (relationships a list does not show are not
loaded); templates compiled once."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import select

from core.entities import EntitySpec, Field
from core.models import Contact, Customer, FollowUp, Product, Tag, User


def owned(model, owner, **values):
    return model(owner_id=owner.id, department_id=owner.department_id, **values)


@pytest.fixture
def records(org, system_session):
    east, west = org.rep_east, org.rep_west
    visible = owned(Customer, east, name="上海华宏贸易有限公司", status="intention", level="A", phone="021-1234",
                    city="上海")
    hidden = owned(Customer, west, name="West Secret Co.")
    bare = owned(Customer, east, name="", status="potential")  # empty name: the row is linked as "#id"
    system_session.add_all([visible, hidden, bare])
    system_session.flush()
    contacts = [owned(Contact, east, name="王经理", customer_id=visible.id, is_primary=True,
                      birthday=dt.date(1980, 2, 29), mobile="13800138000"),
                owned(Contact, east, name="Orphan view", customer_id=hidden.id, is_primary=False)]
    follow_ups = [owned(FollowUp, east, customer_id=visible.id, kind="visit", content="拜访",
                        happened_at=dt.datetime(2024, 3, 31, 17, 30, tzinfo=dt.timezone.utc),  # 01:30 next day in Shanghai
                        next_follow_up=dt.date(2024, 4, 2)),
                  owned(FollowUp, east, customer_id=None, kind="call", content="plain", happened_at=None)]
    products = [Product(code="P-1", name="茶叶", price=Decimal("12345.5"), cost=Decimal("7"), active=True),
                Product(code="P-2", name="Cup", price=Decimal("0"), cost=None, active=False)]
    system_session.add_all(contacts + follow_ups + products)
    system_session.commit()
    return {"customer": [visible, bare], "contact": contacts, "followup": follow_ups, "product": products}


def rows_and_cells(app, user, entity, columns=None, path="/"):
    """(list_rows output, record_cell output) for ``user``'s visible records, computed in one request."""
    from core.authz import establish_scope
    from core.runtime import current, db
    from core.scope import AnonymousScope, set_scope
    from core.web import display

    with app.test_request_context(path):
        session = db()
        set_scope(session, AnonymousScope(current().entities))
        establish_scope(session.execute(select(User).where(User.id == user.id)).scalar_one())
        spec = current().entities[entity]
        columns = columns or spec.list_columns
        records = session.execute(select(spec.model).order_by(spec.model.id)).unique().scalars().all()
        lookups = display.load_lookups(session, spec, records, columns)
        rows = display.list_rows(spec, records, columns, lookups)
        expected = [[display.record_cell(spec, r, name, lookups) for name in columns] for r in records]
        urls = [url_for("web.record_detail", entity=entity, record_id=r.id) for r in records]
        return rows, expected, urls


@pytest.mark.parametrize("entity", ["customer", "contact", "followup", "product"])
@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_list_rows_equal_record_cell(app, org, records, system_session, entity, language):
    user = system_session.execute(select(User).where(User.id == org.boss.id)).scalar_one()
    user.language = language
    system_session.commit()
    rows, expected, urls = rows_and_cells(app, org.boss, entity)
    assert rows and [row.cells for row in rows] == expected
    assert [row.url for row in rows] == urls


def test_list_rows_in_another_time_zone_and_scope(app_with, org, records):
    other = app_with(TIMEZONE="America/New_York")
    rows, expected, _ = rows_and_cells(other, org.rep_east, "followup")
    assert [row.cells for row in rows] == expected
    texts = [c.text for row in rows for c in row.cells]
    assert "2024-03-31 13:30" in texts  # 17:30 UTC is 13:30 in New York (daylight saving time)
    # a contact whose customer the salesperson cannot see: muted "(not visible)", no link — as before
    rows, expected, _ = rows_and_cells(other, org.rep_east, "contact")
    assert [row.cells for row in rows] == expected


def test_list_page_markup(org, client_as, records):
    html = client_as(org.rep_east).get("/r/customer/").get_data(as_text=True)
    visible, bare = records["customer"]
    assert f'<a href="/r/customer/{visible.id}">上海华宏贸易有限公司</a>' in html
    assert f'<a href="/r/customer/{bare.id}">#{bare.id}</a>' in html
    assert '<span class="text-body-secondary">—</span>' in html  # an empty cell
    assert "Intention" in html and "张三 Zhang San" in html
    html = client_as(org.rep_east).get("/r/contact/").get_data(as_text=True)
    assert f'<a href="/r/customer/{visible.id}">上海华宏贸易有限公司</a>' in html  # reference cell link
    assert '<span class="text-body-secondary">(not visible)</span>' in html
    assert 'aria-label="Select"' in html


def test_field_lookup_by_name_follows_changes_to_the_field_list():
    spec = EntitySpec(name="thing", model=Customer, schema=None, label="T", label_plural="Ts",
                      fields=[Field("a", "A"), Field("b", "B"), Field("a", "second A")])
    assert spec.field("a").label == "A" and spec.field("b").label == "B" and spec.field("x") is None
    spec.fields.append(Field("c", "C"))
    assert spec.field("c").label == "C"
    spec.fields = [Field("d", "D")]
    assert spec.field("d").label == "D" and spec.field("a") is None
    spec.fields.pop()
    assert spec.field("d") is None


def test_list_does_not_load_relationships_it_does_not_show(org, client_as, system_session, count_queries):
    tag = Tag(name="VIP")
    system_session.add(tag)
    for i in range(3):
        system_session.add(owned(Customer, org.rep_east, name=f"Tagged {i}", tags=[tag]))
    system_session.commit()
    client = client_as(org.rep_east)
    client.get("/r/customer/")
    with count_queries() as counter:
        assert client.get("/r/customer/").status_code == 200
    sql = "\n".join(counter.statements)
    assert "customer_tag" not in sql  # tags are not a default column
    assert "role_grant" not in re.sub(r"(?s)^.*?FROM customer", "", sql, count=1)  # no owner -> roles -> grants
    assert counter.count <= 14, counter.statements


def test_only_eager_relationships_that_are_not_shown_become_lazy(gx, org, system_session):
    from core import services
    spec = gx.entities["customer"]

    def lazy_keys(shown):
        options = services.shown_only_loading(spec, shown)
        return {list(option.path)[1].key for option in options if len(list(option.path)) > 1}

    # owner (joined) and tags (selectin) are eager by default; contacts is noload and must stay so
    assert lazy_keys(["name", "owner_id"]) == {"owner", "tags"}
    assert lazy_keys(["name", "tags"]) == {"owner"}
    tag = Tag(name="重点客户")
    system_session.add(owned(Customer, org.rep_east, name="Tagged", tags=[tag]))
    system_session.commit()
    system_session.expunge_all()
    result = services.page(system_session, spec, services.list_query(system_session, spec),
                           options=services.shown_only_loading(spec, ["name", "tags"]))
    assert [t.name for t in result.rows[0].tags] == ["重点客户"] and result.rows[0].contacts == []


def test_list_reads_only_the_shown_columns_and_the_sort_key(org, client_as, system_session, count_queries):
    for i in range(3):
        system_session.add(owned(Customer, org.rep_east, name=f"Row {i}", notes="long notes " * 50))
    system_session.commit()
    client = client_as(org.rep_east)
    client.get("/r/customer/?sort=created_at&limit=2")
    with count_queries() as counter:
        html = client.get("/r/customer/?sort=created_at&limit=2").get_data(as_text=True)
    page_sql = [s for s in counter.statements if s.lstrip().startswith("SELECT customer.id")]
    assert len(page_sql) == 1 and "customer.notes" not in page_sql[0] and "customer.created_at" in page_sql[0]
    assert 'rel="next"' in html  # the cursor was built from the loaded sort value, without another query
    cursor = re.search(r'rel="next" href="[^"]*cursor=([^"&]+)', html).group(1)
    second = client.get(f"/r/customer/?sort=created_at&limit=2&cursor={cursor}").get_data(as_text=True)
    assert "Row 2" in second


def test_templates_are_compiled_once(app, org, client_as, records):
    assert not app.jinja_env.auto_reload  # not in debug mode: no stat() of every template per render
    client = client_as(org.rep_east)
    client.get("/r/customer/")
    loads = []
    original = app.jinja_env.loader.get_source

    def counting(environment, name):
        loads.append(name)
        return original(environment, name)

    app.jinja_env.loader.get_source = counting
    try:
        for _ in range(3):
            assert client.get("/r/customer/").status_code == 200
    finally:
        app.jinja_env.loader.get_source = original
    assert loads == []
