"""List pages answer ``?q=`` from the search index (``core.search.query.matching_ids``) instead of scanning
the table with ILIKE: the same matches as the global search (Chinese substrings, pinyin, phone digits in any
format), inside the caller's data scope, without a LIKE over the entity's columns."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core import services
from core.models import Customer, Product
from core.scope import build_user_scope, set_scope


@pytest.fixture
def shops(gx, org, system_session):
    east, west = org.rep_east, org.rep_west
    rows = {
        "huahong": Customer(name="上海华宏贸易有限公司", phone="+86 138-0013-8000", owner_id=east.id,
                            department_id=east.department_id),
        "junan": Customer(name="成都君安教育有限责任公司", phone="028-8765 4321", owner_id=east.id,
                          department_id=east.department_id, email="info@junan-edu.example.com"),
        "splendid": Customer(name="Splendid Furniture Co., Ltd.", code="SPL-7", owner_id=east.id,
                             department_id=east.department_id),
        "west": Customer(name="成都华宏商行", phone="13800138000", owner_id=west.id, department_id=west.department_id),
        "deleted": Customer(name="杭州华宏旧公司", owner_id=east.id, department_id=east.department_id),
    }
    system_session.add_all(rows.values())
    system_session.commit()
    services.delete(system_session, gx.entities["customer"], rows["deleted"].id)
    return rows


def listed_ids(client, q, entity="customer") -> set[int]:
    response = client.get(f"/r/{entity}/", query_string={"q": q})
    assert response.status_code == 200
    body = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {int(i) for i in re.findall(rf'href="/r/{entity}/(\d+)"', body)}


@pytest.mark.parametrize("term, expected", [
    ("华宏", {"huahong"}),                  # two-character Chinese substring in the middle of a name
    ("君安教育", {"junan"}),
    ("huahong", {"huahong"}),               # full pinyin
    ("hh", {"huahong"}),                    # pinyin initials
    ("0013 8000", {"huahong"}),             # phone digits typed differently from how they are stored
    ("13800138000", {"huahong"}),           # the whole number, stored as "+86 138-0013-8000"
    ("87654321", {"junan"}),                # landline digits without the area code
    ("splendid", {"splendid"}),             # Latin word prefix, any case
    ("SPL-7", {"splendid"}),                # code
    ("info@junan-edu.example.com", {"junan"}),  # e-mail, whole
    ("junan", {"junan"}),                   # e-mail from a word start (the domain)
])
def test_list_search_matches_like_the_global_search_within_scope(org, client_as, shops, term, expected):
    client = client_as(org.rep_east)
    assert listed_ids(client, term) == {shops[key].id for key in expected}
    # the global search page finds the same customers for this user
    search_html = client.get("/search", query_string={"q": term}).get_data(as_text=True)
    found = {int(i) for i in re.findall(r'href="/r/customer/(\d+)"', search_html)}
    assert found == {shops[key].id for key in expected}


def test_list_search_keeps_scope_and_recycle_bin(org, client_as, shops):
    assert listed_ids(client_as(org.rep_west), "华宏") == {shops["west"].id}
    assert listed_ids(client_as(org.manager_east), "华宏") == {shops["huahong"].id}  # not the deleted one
    assert listed_ids(client_as(org.boss), "华宏") == {shops["huahong"].id, shops["west"].id}
    assert listed_ids(client_as(org.boss), "138 0013 8000") == {shops["huahong"].id, shops["west"].id}


def test_list_search_reads_the_index_not_a_like_scan(org, client_as, shops, count_queries):
    client = client_as(org.rep_east)
    client.get("/r/customer/?q=华宏")
    with count_queries() as counter:
        assert client.get("/r/customer/?q=华宏").status_code == 200
    customer_selects = [s for s in counter.statements if re.search(r"\bFROM customer\b", s)]
    assert customer_selects and all("search_token" in s for s in customer_selects), customer_selects
    assert not any(re.search(r"(?i)\bLIKE\b", s) for s in customer_selects), customer_selects


def test_search_result_count_and_paging_follow_the_index(org, client_as, system_session):
    for i in range(7):
        system_session.add(Customer(name=f"苏州华宏分公司{i}", owner_id=org.rep_east.id,
                                    department_id=org.rep_east.department_id))
        system_session.add(Customer(name=f"Other {i}", owner_id=org.rep_east.id,
                                    department_id=org.rep_east.department_id))
    system_session.commit()
    client = client_as(org.rep_east)
    first = client.get("/r/customer/?q=华宏&limit=5").get_data(as_text=True)
    assert "Records: 7" in first
    cursor = re.search(r'rel="next" href="[^"]*cursor=([^"&]+)', first).group(1)
    second = client.get(f"/r/customer/?q=华宏&limit=5&cursor={cursor}").get_data(as_text=True)
    names = re.findall(r"苏州华宏分公司\d", first + second)
    assert sorted(names) == [f"苏州华宏分公司{i}" for i in range(7)]


def test_one_character_terms_and_unindexed_entities_still_filter(gx, org, client_as, shops, monkeypatch):
    client = client_as(org.rep_east)
    # a single character gives the index nothing to look up: the list falls back to a substring filter
    assert listed_ids(client, "宏") == {shops["huahong"].id}
    # an entity with search_fields but no search provider keeps the ILIKE filter
    spec = gx.entities["customer"]
    from core.search import index as search_index
    session = gx.session_factory()
    try:
        with gx.system_session("test") as s:
            from core.models import User
            user = s.execute(select(User).where(User.id == org.rep_east.id)).scalar_one()
            set_scope(session, build_user_scope(s, user, gx.entities, gx.hook))
        with monkeypatch.context() as patched:
            patched.setattr(search_index, "provider_for", lambda *_a, **_k: None)
            stmt = services.list_query(session, spec, search="rading")
            assert "LIKE" in str(stmt.compile()).upper() and "search_token" not in str(stmt.compile())
        stmt = services.list_query(session, spec, search="华宏")
        assert "search_token" in str(stmt.compile())
        assert {c.id for c in session.execute(stmt).unique().scalars()} == {shops["huahong"].id}
    finally:
        session.close()


def test_recycle_bin_search_does_not_use_the_index(gx, org, shops, system_session):
    """Deleted records have no index entries: a search among them keeps the column filter."""
    spec = gx.entities["customer"]
    stmt = services.list_query(system_session, spec, search="华宏", include_deleted=True)
    assert "search_token" not in str(stmt.compile())
    assert {c.id for c in system_session.execute(stmt).unique().scalars()} == {shops["deleted"].id}


def test_hidden_fields_cannot_be_probed_through_the_list_search(org, client_as, system_session):
    product = Product(code="P-1", name="Plain tea", category="tea", cost=123456)
    system_session.add(product)
    system_session.commit()
    client = client_as(org.rep_east)  # salespeople do not see procurement cost
    assert listed_ids(client, "123456", entity="product") == set()
    assert listed_ids(client, "plain", entity="product") == {product.id}


def test_like_wildcards_never_act_as_wildcards(gx, org, system_session):
    """Through the index "%" and "_" are punctuation; through the one-character fallback they are escaped."""
    for name in ("100% 纯棉", "1000 pieces", "a_b", "axb"):
        system_session.add(Customer(name=name, owner_id=org.rep_east.id, department_id=org.rep_east.department_id))
    system_session.commit()
    spec = gx.entities["customer"]

    def names(q):
        return {c.name for c in system_session.execute(services.list_query(system_session, spec, search=q)).scalars()}

    assert names("%") == {"100% 纯棉"} and names("_") == {"a_b"}  # a lone wildcard: literal, not "anything"
    assert names("a_b") == {"a_b"} and names("a%b") == {"a_b"}    # never "axb"
    assert names("100%") == {"100% 纯棉", "1000 pieces"}          # word prefix "100", as the global search
    assert names("纯棉") == {"100% 纯棉"}


def test_follow_up_lists_find_words_anywhere_in_the_content(org, client_as, system_session):
    """The index keeps only the start of a follow-up's content; the list still finds a word at its end."""
    from core.models import FollowUp
    east = org.rep_east
    customer = Customer(name="内容搜索客户", owner_id=east.id, department_id=east.department_id)
    system_session.add(customer)
    system_session.flush()
    late = FollowUp(customer_id=customer.id, owner_id=east.id, department_id=east.department_id,
                    content="上午电话沟通了交货期和付款方式，客户最后提到想要增加一批不锈钢阀门")
    other = FollowUp(customer_id=customer.id, owner_id=east.id, department_id=east.department_id,
                     content="发送了报价单")
    system_session.add_all([late, other])
    system_session.commit()
    assert listed_ids(client_as(east), "不锈钢阀门", entity="followup") == {late.id}
