"""Global search (issue #3 §4): Chinese substrings, pinyin, initials, phones, e-mails, within the data scope,
kept up to date by every write."""
import pytest
from sqlalchemy import func, insert, inspect, select

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
    monkeypatch.setattr(query, "MAX_CANDIDATES", 6)
    for n in range(8):
        add_customer(system_session, org.boss, f"苏州园林{n}")
    mine = add_customer(system_session, org.rep_east, "苏州园林9")
    boss = search.search(as_user(org.boss), "苏州园林", search.providers(gx), limit=3)[0]
    assert len(boss.hits) == 3 and boss.more and not boss.capped
    rep = search.search(as_user(org.rep_east), "苏州园林", search.providers(gx), limit=3)
    assert [(g.spec.name, g.hits, g.capped) for g in rep] == [("customer", [], True)]  # "type more"
    assert found(as_user(org.rep_east), gx, "苏州园林9") == {mine.id}  # typing more finds it


# ------------------------------------------------------------------------------ index key, bulk API, ?q= ids

def test_primary_key_serves_entity_then_token_prefix(gx):
    key = inspect(gx.engine).get_pk_constraint("search_token")["constrained_columns"]
    assert key == ["entity", "token", "record_id"]


def test_index_records_writes_core_inserted_rows(gx, org, system_session, as_user):
    rows = [{"name": name, "phone": phone, "email": email, "owner_id": org.rep_east.id,
             "department_id": org.rep_east.department_id, "custom": {}}
            for name, phone, email in [("杭州钱塘茶业", "0571-8888 1234", "sales@qiantang.cn"),
                                       ("Hangzhou Silk Ltd", "+86 139 0000 5678", None)]]
    ids = system_session.execute(insert(Customer).returning(Customer.id), rows).scalars().all()
    spec = gx.entities["customer"]
    written = search.index_records(system_session, spec, [dict(row, id=i) for row, i in zip(rows, ids)], new=True)
    system_session.commit()
    assert written == system_session.execute(select(func.count()).select_from(SearchToken)).scalar_one() > 0
    session = as_user(org.rep_east)
    tea, silk = ids
    for term, expected in [("钱塘", {tea}), ("qiantang", {tea}), ("hzqt", {tea}), ("88881234", {tea}),
                           ("sales@qiantang.cn", {tea}), ("silk", {silk}), ("13900005678", {silk})]:
        assert found(session, gx, term) == expected, term
    # re-indexing changed rows replaces their tokens (new=False deletes the old ones first)
    assert search.index_records(system_session, "customer", [{"id": tea, "name": "宁波港务"}]) > 0
    system_session.commit()
    session.rollback()
    assert found(session, gx, "钱塘") == set() and found(session, gx, "ningbo") == {tea}
    # soft-deleted rows get no tokens; an entity without a provider writes nothing
    assert search.index_records(system_session, spec, [{"id": silk, "name": "x", "deleted_at": "2024-01-01"}]) == 0
    assert search.index_records(system_session, "no_such_entity", [{"id": 1, "name": "张三"}]) == 0


def _tokens(session):
    return session.execute(select(func.count()).select_from(SearchToken)).scalar_one()


def test_deferred_indexing_indexes_the_block_at_once(gx, org, system_session, as_user):
    kept = add_customer(system_session, org.rep_east, "温州鞋业")
    before = _tokens(system_session)
    with search.deferred_indexing(system_session):
        made = [Customer(name=f"义乌小商品{n}号", phone=f"0579-8500 00{n:02d}", owner_id=org.rep_east.id,
                         department_id=org.rep_east.department_id) for n in range(30)]
        system_session.add_all(made)
        system_session.flush()
        kept.name = "温州皮鞋"
        system_session.flush()
        assert _tokens(system_session) == before  # flushes inside the block write no tokens
    assert _tokens(system_session) > before
    system_session.commit()
    session = as_user(org.rep_east)
    assert ids_matching(session, gx.entities["customer"], "义乌小商品") == {c.id for c in made}
    assert found(session, gx, "85000029") == {made[29].id}
    assert found(session, gx, "pixie") == {kept.id} and found(session, gx, "xieye") == set()


def test_deferred_indexing_commit_inside_and_rollback(gx, org, system_session, as_user):
    with search.deferred_indexing(system_session):
        first = Customer(name="嘉兴粽子厂", owner_id=org.boss.id, department_id=org.boss.department_id)
        system_session.add(first)
        system_session.commit()  # indexes what the block wrote so far, before committing it
        assert found(as_user(org.boss), gx, "粽子") == {first.id}
        doomed = Customer(name="嘉兴南湖船厂", owner_id=org.boss.id, department_id=org.boss.department_id)
        system_session.add(doomed)
        system_session.delete(first)
    system_session.commit()
    session = as_user(org.boss)
    assert found(session, gx, "南湖") == {doomed.id} and found(session, gx, "粽子") == set()
    with pytest.raises(RuntimeError):
        with search.deferred_indexing(system_session):
            system_session.add(Customer(name="绍兴黄酒", owner_id=org.boss.id, department_id=org.boss.department_id))
            system_session.flush()
            raise RuntimeError("import failed")
    system_session.rollback()
    assert "search_deferred" not in system_session.info
    assert found(session, gx, "黄酒") == set()


def ids_matching(session, spec, term):
    """What a list page's ``?q=`` gives: the scoped list query filtered by ``matching_ids``."""
    ids = search.matching_ids(session, spec, term)
    assert ids is not None
    return set(session.execute(select(spec.model.id).where(spec.model.id.in_(ids))).scalars())


@pytest.mark.parametrize("term, key", [
    ("张三", "zhangsan"), ("zhangsan", "zhangsan"), ("zs", "zhangsan"), ("Zhang San", "zhangsan"),
    ("华宏贸易", "huahong"), ("有限公司", "huahong"), ("maoyi", "huahong"), ("shhh", "huahong"),
    ("13800138000", "zhangsan"), ("138 0013 8000", "zhangsan"), ("138-0013-8000", "zhangsan"),
    ("+86 13800138000", "zhangsan"), ("+86-138-0013-8000", "zhangsan"), ("6552 9988", "huahong"),
    ("zhang.san@huahong.com", "zhangsan"), ("huahong.com", "zhangsan"), ("info@yuanda.cn", "west"),
    ("trading", "acme"), ("acme trad", "acme"), ("ACME", "acme"),
    ("shanghaihuahongmaoyiyouxiangongsi", "huahong"),  # longer than the full-pinyin tokens
])
def test_matching_ids_follows_the_search_rules(gx, customers, as_user, org, term, key):
    assert customers[key].id in ids_matching(as_user(org.boss), gx.entities["customer"], term)


def test_matching_ids_stays_within_scope_and_says_when_it_cannot_answer(gx, customers, as_user, org):
    spec = gx.entities["customer"]
    assert ids_matching(as_user(org.rep_west), spec, "张三") == set()
    assert ids_matching(as_user(org.rep_west), spec, "有限公司") == {customers["west"].id}
    assert ids_matching(as_user(org.rep_east), spec, "有限公司") == {customers["huahong"].id}
    assert ids_matching(as_user(org.manager_west), spec, "13800138000") == set()
    assert ids_matching(as_user(org.boss), spec, "华宏张") == set()
    assert search.matching_ids(as_user(org.boss), spec, "三") is None  # one character: not answerable
    assert search.matching_ids(as_user(org.boss), spec, " - ") is None
    limited = search.matching_ids(as_user(org.boss), spec, "有限公司", limit=1)
    assert len(as_user(org.boss).execute(select(Customer.id).where(Customer.id.in_(limited))).all()) == 1


def test_migration_to_the_entity_first_key_keeps_the_tokens(tmp_path):
    """0004 rebuilds search_token with the new key on every database; its tokens survive both ways."""
    import os
    from core import migrate
    from core.testing import create_test_database
    from core.testing.pytest_plugin import make_test_app

    url, drop = create_test_database(os.environ.get("GUANXI_TEST_DATABASE_URL"), tmp_path)
    app = make_test_app(url, tmp_path)
    gx = app.extensions["guanxi"]
    try:
        with app.app_context():
            migrate.downgrade(gx, "core", "0003_merge_issue3")
            assert inspect(gx.engine).get_pk_constraint("search_token")["constrained_columns"] == [
                "token", "entity", "record_id"]
            with gx.system_session("test: data before the upgrade") as session:
                session.add(Customer(name="厦门鼓浪屿酒店", phone="0592 2061234", custom={}))
                session.commit()
                before = session.execute(select(SearchToken.token, SearchToken.record_id)).all()
            assert before
            migrate.upgrade(gx)
            assert inspect(gx.engine).get_pk_constraint("search_token")["constrained_columns"] == [
                "entity", "token", "record_id"]
            with gx.system_session("test: data after the upgrade") as session:
                after = session.execute(select(SearchToken.token, SearchToken.record_id)).all()
                assert sorted(after) == sorted(before)
                spec = gx.entities["customer"]
                for term in ("鼓浪屿", "gulangyu", "xmglyjd", "2061234"):
                    ids = session.execute(select(Customer.id).where(
                        Customer.id.in_(search.matching_ids(session, spec, term)))).scalars().all()
                    assert len(ids) == 1, term
    finally:
        gx.engine.dispose()
        drop()
