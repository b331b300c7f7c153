"""The search page, the navbar suggestions, the API endpoint and ``guanxi search reindex``."""
import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from core.cli import main
from core.models import Customer, Product
from core.search.models import SearchToken


@pytest.fixture
def shops(org, system_session):
    rows = {
        "east": Customer(name="上海华宏贸易有限公司", phone="+86 138-0013-8000", owner_id=org.rep_east.id,
                         department_id=org.rep_east.department_id),
        "west": Customer(name="成都华宏商行", owner_id=org.rep_west.id, department_id=org.rep_west.department_id),
        "product": Product(code="P-HH-1", name="华宏牌茶叶", cost=5),
    }
    system_session.add_all(rows.values())
    system_session.commit()
    return rows


def test_page_groups_results_highlights_and_keeps_scope(client_as, org, shops):
    html = client_as(org.rep_east).get("/search?q=huahong").get_data(as_text=True)
    assert f'href="/r/customer/{shops["east"].id}"' in html
    assert f'href="/r/customer/{shops["west"].id}"' not in html  # rep_west's shop stays hidden
    assert f'href="/r/product/{shops["product"].id}"' in html
    assert "上海<mark>华宏</mark>贸易有限公司" in html
    assert html.index('data-entity="customer"') < html.index('data-entity="product"')


def test_page_phone_highlight_and_short_terms(client_as, org, shops):
    browser = client_as(org.manager_east)
    assert "+86 138-<mark>0013-8000</mark>" in browser.get("/search?q=0013 8000").get_data(as_text=True)
    assert "at least two characters" in browser.get("/search?q=x").get_data(as_text=True)


def test_suggestions_fragment(client_as, org, shops):
    browser = client_as(org.boss)
    html = browser.get("/search/suggest?q=hh").get_data(as_text=True)
    assert f'/r/customer/{shops["east"].id}' in html and f'/r/customer/{shops["west"].id}' in html
    assert "<html" not in html and "/search?q=hh" in html
    assert browser.get("/search/suggest?q=").get_data(as_text=True).strip() == ""
    assert 'hx-get="/search/suggest"' in browser.get("/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(app):
    assert app.test_client().get("/search/suggest?q=hh").status_code == 302
    assert app.test_client().get("/api/v1/search?q=hh").status_code == 401


def test_api_groups_within_scope_without_hidden_fields(api_as, org, shops):
    body = api_as(org.rep_west).get("/api/v1/search?q=华宏").get_json()
    assert body["q"] == "华宏"
    customers = next(g for g in body["groups"] if g["entity"] == "customer")
    assert [item["id"] for item in customers["items"]] == [shops["west"].id]
    assert customers["items"][0]["url"] == f"/api/v1/customer/{shops['west'].id}"
    products = next(g for g in body["groups"] if g["entity"] == "product")
    assert products["items"][0]["fields"] == {"code": "P-HH-1", "name": "华宏牌茶叶"} and "cost" not in products["items"][0]


def test_api_entity_filter_and_bad_limits(api_as, org, shops):
    api = api_as(org.boss)
    body = api.get("/api/v1/search?q=hh&entity=product").get_json()
    assert [g["entity"] for g in body["groups"]] == ["product"]
    response = api.get("/api/v1/search?q=hh&limit=500")
    assert response.status_code == 400 and "limit" in response.get_json()["fields"]
    assert api.get("/api/v1/search?q=" + "x" * 201).status_code == 400
    assert api.get("/api/v1/search?q=").get_json()["groups"] == []


def test_cli_reindex_rebuilds_the_index(app, guanxi_database, tmp_path, shops, client_as, org, system_session):
    system_session.execute(delete(SearchToken))
    system_session.commit()
    before = client_as(org.boss).get("/search?q=huahong").get_data(as_text=True)
    assert f'/r/customer/{shops["east"].id}"' not in before
    env = {"GUANXI_DATABASE_URL": guanxi_database, "GUANXI_INSTANCE_PATH": str(tmp_path), "GUANXI_QUEUE": "memory",
           "GUANXI_SECRET_KEY": "cli-test", "GUANXI_MODULES": "*", "GUANXI_LICENSE_FILE": None,
           "GUANXI_VENDOR_PUBLIC_KEYS": None}
    result = CliRunner(env=env).invoke(main, ["search", "reindex", "--entity", "customer"], catch_exceptions=False)
    assert result.exit_code == 0 and "customer:" in result.output and "product" not in result.output
    html = client_as(org.boss).get("/search?q=huahong").get_data(as_text=True)
    assert f'/r/customer/{shops["east"].id}' in html and f'/r/product/{shops["product"].id}' not in html
    bad = CliRunner(env=env).invoke(main, ["search", "reindex", "--entity", "nope"])
    assert bad.exit_code == 1 and "nope" in bad.output


def test_custom_text_fields_are_searchable(app, client_as, csrf, org, system_session):
    from tests.core.customfields_helpers import add_field_via_admin
    admin = client_as(org.admin)
    key = add_field_via_admin(admin, csrf, label_en="WeChat group", label_zh="微信群")
    browser = client_as(org.rep_east)
    response = browser.post("/r/customer/new", data={"csrf_token": csrf(browser, "/r/customer/new"), "name": "杭州数据",
                                                      "kind": "company", "status": "potential", key: "西溪湿地群"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    html = browser.get("/search?q=xixi").get_data(as_text=True)
    assert "杭州数据" in html
    assert "杭州数据" not in client_as(org.rep_west).get("/search?q=西溪").get_data(as_text=True)
