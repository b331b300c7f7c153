"""Global search (issue #3 §4): Chinese substrings, pinyin, initials, phones, e-mails, within the data scope,
kept up to date by every write."""
import pytest
from sqlalchemy import func, insert, select

from core import search, services
from core.models import Contact, Customer
from core.scope import build_user_scope
from core.search.models import SearchToken


@pytest.fixture
def as_user(gx):
    """``as_user(user)`` -> a session carrying ``user``'s data scope, as a request would."""
    made = []

    def session_for(user):
        session = gx.new_session()
        session.info["scope"] = build_user_scope(session, user, gx.entities, gx.hook)
        made.append(session)
        return session
    yield session_for
    for session in made:
        session.close()


def add_customer(session, owner, name, **values):
    customer = Customer(name=name, owner_id=owner.id, department_id=owner.department_id, **values)
    session.add(customer)
    session.commit()
    return customer


@pytest.fixture
def customers(org, system_session):
    return {
        "zhangsan": add_customer(system_session, org.rep_east, "张三", phone="+86 138-0013-8000",
                                 email="Zhang.San@HuaHong.com"),
        "huahong": add_customer(system_session, org.rep_east, "上海华宏贸易有限公司", phone="021-6552 9988"),
        "west": add_customer(system_session, org.rep_west, "北京远大科技有限公司", email="info@yuanda.cn"),
        "acme": add_customer(system_session, org.boss, "ACME Trading Co., Ltd."),
    }


def found(session, gx, term, entity="customer"):
    groups = search.search(session, term, search.providers(gx))
    return {hit.record.id for group in groups if group.spec.name == entity for hit in group.hits}


@pytest.mark.parametrize("term", ["张三", "zhangsan", "zs", "zhang", "ZhangSan", "zhang san"])
def test_person_found_by_name_pinyin_and_initials(gx, customers, as_user, org, term):
    assert customers["zhangsan"].id in found(as_user(org.boss), gx, term)


@pytest.mark.parametrize("term", ["华宏", "贸易有限", "上海华宏贸易有限公司", "有限公司", "huahong", "hh", "shhh",
                                  "maoyi", "shanghai", "hhmy"])
def test_company_found_by_any_substring_and_pinyin(gx, customers, as_user, org, term):
    assert customers["huahong"].id in found(as_user(org.boss), gx, term)


@pytest.mark.parametrize("term", ["13800138000", "138 0013", "0013-8000", "+8613800138000", "+86 138-0013-8000",
                                  "0086 13800138000"])
def test_phone_found_however_typed(gx, customers, as_user, org, term):
    assert found(as_user(org.boss), gx, term) == {customers["zhangsan"].id}


@pytest.mark.parametrize("term", ["zhang.san@huahong.com", "ZHANG.SAN@HUAHONG.COM", "zhang.san", "san@huahong",
                                  "huahong.com"])
def test_email_found_by_whole_and_part(gx, customers, as_user, org, term):
    assert customers["zhangsan"].id in found(as_user(org.boss), gx, term)


def test_latin_names_by_word_and_nothing_for_strangers(gx, customers, as_user, org):
    session = as_user(org.boss)
    assert found(session, gx, "trading") == {customers["acme"].id}
    assert found(session, gx, "acme trading") == {customers["acme"].id}
    assert found(session, gx, "华宏张") == set()  # every character must match, in order
    assert found(session, gx, "三") == set()  # one character is too short to search
    assert found(session, gx, "zz") == set()


def test_scope_rep_sees_own_manager_his_team_boss_all(gx, customers, as_user, org):
    east = {customers["zhangsan"].id, customers["huahong"].id}
    assert found(as_user(org.rep_east), gx, "有限公司") == {customers["huahong"].id}
    assert found(as_user(org.rep_west), gx, "张三") == set()
    assert found(as_user(org.rep_west), gx, "有限公司") == {customers["west"].id}
    assert found(as_user(org.rep_east_sub), gx, "zs") == set()
    assert found(as_user(org.manager_east), gx, "13800138000") == {customers["zhangsan"].id}
    assert found(as_user(org.manager_west), gx, "13800138000") == set()
    assert found(as_user(org.manager_east), gx, "gongsi") == {customers["huahong"].id}
    assert found(as_user(org.boss), gx, "gongsi") == {customers["huahong"].id, customers["west"].id}
    assert east <= found(as_user(org.boss), gx, "h")  | east  # boss search sanity: no error on short terms
    assert found(as_user(org.procurement), gx, "张三") == set()  # no customer permission at all


def test_updates_deletes_and_restores_are_reflected(gx, customers, as_user, org):
    session = as_user(org.rep_east)
    spec = gx.entities["customer"]
    record_id = customers["zhangsan"].id
    services.update(session, spec, record_id, {"name": "李雷", "phone": "139 1111 2222"}, gx.entities)
    assert found(session, gx, "张三") == set() and found(session, gx, "13800138000") == set()
    assert found(session, gx, "lilei") == {record_id} and found(session, gx, "11112222") == {record_id}
    services.delete(session, spec, record_id)
    assert found(session, gx, "李雷") == set()
    assert found(as_user(org.boss), gx, "李雷") == set()
    services.restore(session, spec, record_id)
    assert found(session, gx, "李雷") == {record_id}


def test_services_create_indexes_in_the_same_transaction(gx, org, as_user):
    session = as_user(org.rep_west)
    created = services.create(session, gx.entities["customer"], {"name": "成都天府软件"}, gx.entities)
    assert found(session, gx, "tianfu") == {created.id}
    assert found(session, gx, "天府") == {created.id}


def test_contacts_and_other_entities_are_searched_and_grouped(gx, customers, system_session, as_user, org):
    contact = Contact(customer_id=customers["huahong"].id, name="王小明", mobile="186 0000 1234",
                      owner_id=org.rep_east.id, department_id=org.rep_east.department_id)
    system_session.add(contact)
    system_session.commit()
    groups = search.search(as_user(org.manager_east), "xiaoming", search.providers(gx))
    assert [(g.spec.name, [h.record.id for h in g.hits]) for g in groups] == [("contact", [contact.id])]
    assert found(as_user(org.rep_east), gx, "00001234", "contact") == {contact.id}
    assert found(as_user(org.rep_west), gx, "00001234", "contact") == set()


def test_limit_and_more_flag(gx, org, system_session, as_user):
    for n in range(5):
        add_customer(system_session, org.rep_east, f"杭州西湖{n}号店")
    groups = search.search(as_user(org.rep_east), "西湖", search.providers(gx), limit=3)
    assert len(groups[0].hits) == 3 and groups[0].more is True
    groups = search.search(as_user(org.rep_east), "西湖", search.providers(gx), limit=5)
    assert len(groups[0].hits) == 5 and groups[0].more is False


def test_exact_name_comes_first(gx, org, system_session, as_user):
    add_customer(system_session, org.boss, "华宏电子")
    add_customer(system_session, org.boss, "深圳华宏")
    exact = add_customer(system_session, org.boss, "华宏")
    groups = search.search(as_user(org.boss), "华宏", search.providers(gx))
    assert groups[0].hits[0].record.id == exact.id


def test_bulk_insert_needs_reindex(gx, org, system_session, as_user):
    system_session.execute(insert(Customer), [
        {"name": "南京紫金山庄", "owner_id": org.boss.id, "department_id": org.boss.department_id, "custom": {}},
        {"name": "南京玄武湖", "owner_id": org.boss.id, "department_id": org.boss.department_id, "custom": {}},
    ])
    system_session.commit()
    ids = system_session.execute(select(Customer.id).where(Customer.name.startswith("南京"))).scalars().all()
    session = as_user(org.boss)
    assert found(session, gx, "南京") == set()  # executemany bypasses the ORM: not indexed yet
    search.reindex(system_session, gx.entities["customer"], ids)
    system_session.commit()
    session.rollback()
    assert found(session, gx, "南京") == set(ids)
    assert found(session, gx, "zjsz") == {min(ids)}


def test_reindex_entity_rebuilds_everything(gx, customers, system_session, as_user, org):
    system_session.execute(SearchToken.__table__.delete())
    system_session.commit()
    assert found(as_user(org.boss), gx, "张三") == set()
    written = search.reindex_entity(system_session, gx.entities["customer"], batch=2)
    count = system_session.execute(select(func.count()).select_from(SearchToken)).scalar_one()
    assert written == count > 0
    assert found(as_user(org.boss), gx, "张三") == {customers["zhangsan"].id}


def test_search_is_a_few_queries_per_entity(gx, customers, as_user, org, count_queries):
    session = as_user(org.boss)
    session.execute(select(Customer.id)).all()  # warm up the connection
    with count_queries() as counter:
        search.search(session, "华宏", search.providers(gx))
    visible = [p for p in search.providers(gx) if session.info["scope"].has(p.spec.permission("view"))]
    # per entity at most: candidate ids, the visible ones, their records, and the eager-loaded customer tags
    assert counter.count <= 4 * len(visible)



def test_follow_up_content_found_by_its_beginning(gx, customers, system_session, as_user, org):
    from core.models import FollowUp
    note = FollowUp(customer_id=customers["huahong"].id, content="电话沟通报价，客户希望下周拜访 " + "详细" * 40 + "尾巴",
                    owner_id=org.rep_east.id, department_id=org.rep_east.department_id)
    system_session.add(note)
    system_session.commit()
    assert found(as_user(org.rep_east), gx, "希望下周", "followup") == {note.id}
    assert found(as_user(org.rep_east), gx, "尾巴", "followup") == set()  # past the indexed beginning
    assert found(as_user(org.rep_west), gx, "希望下周", "followup") == set()


def test_too_common_terms_are_capped_not_slow(gx, org, system_session, as_user, monkeypatch):
    from core.search import query
    monkeypatch.setattr(query, "FIRST_BATCH", 2)
    monkeypatch.setattr(query, "MAX_CANDIDATES", 6)
    for n in range(8):
        add_customer(system_session, org.boss, f"苏州园林{n}")
    mine = add_customer(system_session, org.rep_east, "苏州园林9")
    boss = search.search(as_user(org.boss), "苏州园林", search.providers(gx), limit=3)[0]
    assert len(boss.hits) == 3 and boss.more and not boss.capped
    rep = search.search(as_user(org.rep_east), "苏州园林", search.providers(gx), limit=3)
    assert [(g.spec.name, g.hits, g.capped) for g in rep] == [("customer", [], True)]  # "type more"
    assert found(as_user(org.rep_east), gx, "苏州园林9") == {mine.id}  # typing more finds it
