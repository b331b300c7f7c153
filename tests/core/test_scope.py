"""Data scope at the data layer: every ORM path returns exactly what an independent oracle says.

The oracle below is written from the documented stock-role rules (DESIGN.md §4, issue #2 §6), never from
app code: boss/admin all, sales manager team (department subtree), salesperson own, service sees customers
and contacts company-wide but only own follow-ups, procurement no sales data, deactivated nothing.
"""
import hashlib
import threading

import pytest
from marshmallow import ValidationError
from sqlalchemy import delete, func, select, update

from core import services
from core.models import Contact, Customer, FollowUp, Product, User
from core.scope import ScopeMissing, build_user_scope, get_scoped, set_scope, system_scope

ORACLE_LEVEL = {
    "boss": {"customer": "all", "contact": "all", "followup": "all", "product": "all"},
    "admin": {"customer": "all", "contact": "all", "followup": "all", "product": "all"},
    "sales_manager": {"customer": "team", "contact": "team", "followup": "team", "product": "all"},
    "salesperson": {"customer": "own", "contact": "own", "followup": "own", "product": "all"},
    "service": {"customer": "all", "contact": "all", "followup": "own", "product": "all"},
    "procurement": {"customer": "none", "contact": "none", "followup": "none", "product": "all"},
}
ROLE_OF = {"boss": "boss", "admin": "admin", "manager_east": "sales_manager", "manager_west": "sales_manager",
           "rep_east": "salesperson", "rep_east_sub": "salesperson", "rep_west": "salesperson",
           "procurement": "procurement", "service": "service", "deactivated": "salesperson"}
OWNERS = ["rep_east", "rep_east_sub", "rep_west", "manager_east", "manager_west", "boss", "service"]


def oracle_visible(org, login, entity, owner_login):
    """Pure-Python answer: may ``login`` see a record of ``entity`` owned by ``owner_login``?"""
    viewer = getattr(org, login)
    if not viewer.active:
        return False
    level = ORACLE_LEVEL[ROLE_OF[login]][entity]
    if level == "all":
        return True
    if level == "none" or owner_login is None:
        return False
    owner = getattr(org, owner_login)
    if level == "own":
        return owner.id == viewer.id
    # team: the owner's department lies in the viewer's department subtree
    by_id = {d.id: d for d in org.departments.values()}
    return by_id[owner.department_id].path.startswith(by_id[viewer.department_id].path) or owner.id == viewer.id


@pytest.fixture
def records(org, system_session):
    """A customer, contact and follow-up per owner (own / same dept / sub-dept / sibling / other branch)."""
    made = {}
    for login in OWNERS + [None]:
        owner = getattr(org, login) if login else None
        owner_fields = {"owner_id": owner.id if owner else None,
                        "department_id": owner.department_id if owner else None}
        customer = Customer(name=f"客户 of {login}", **owner_fields)
        system_session.add(customer)
        system_session.flush()
        contact = Contact(name=f"联系人 of {login}", customer_id=customer.id, **owner_fields)
        follow_up = FollowUp(content=f"visit by {login}", customer_id=customer.id, **owner_fields)
        system_session.add_all([contact, follow_up])
        system_session.flush()
        made[login] = {"customer": customer.id, "contact": contact.id, "followup": follow_up.id}
    system_session.add(Product(code="P-1", name="产品一", price=10, cost=6))
    system_session.commit()
    return made


def scoped_session(gx, user_login, org):
    session = gx.session_factory()
    with system_scope(session, "test: load user"):
        user = session.execute(select(User).where(User.id == getattr(org, user_login).id)).scalar_one()
        scope = build_user_scope(session, user, gx.entities, gx.hook)
    set_scope(session, scope)
    return session


MODELS = {"customer": Customer, "contact": Contact, "followup": FollowUp}


@pytest.mark.parametrize("login", list(ROLE_OF))
def test_read_paths_match_oracle(gx, org, records, login):
    session = scoped_session(gx, login, org)
    try:
        for entity, model in MODELS.items():
            expected = {ids[entity] for owner, ids in records.items() if oracle_visible(org, login, entity, owner)}
            listed = set(session.execute(select(model.id)).scalars())
            assert listed == expected, (login, entity)
            counted = session.execute(select(func.count()).select_from(model)).scalar_one()
            assert counted == len(expected)
            for owner, ids in records.items():
                found = get_scoped(session, model, ids[entity])
                assert (found is not None) == (ids[entity] in expected), (login, entity, owner)
        # a join and a subquery over another scoped entity are filtered too
        joined = set(session.execute(select(Contact.id).join(Customer, Contact.customer_id == Customer.id))
                     .scalars())
        both = {records[o]["contact"] for o in records
                if oracle_visible(org, login, "contact", o) and oracle_visible(org, login, "customer", o)}
        assert joined == both
        sub = set(session.execute(select(FollowUp.id).where(
            FollowUp.customer_id.in_(select(Customer.id)))).scalars())
        assert sub == {records[o]["followup"] for o in records
                       if oracle_visible(org, login, "followup", o) and oracle_visible(org, login, "customer", o)}
    finally:
        session.close()


def test_relationship_load_is_scoped(gx, org, records):
    """rep_west's own follow-up on... a customer he cannot see: the relationship comes back empty."""
    with gx.system_session("test") as s:
        fu = FollowUp(content="cross", customer_id=records["rep_east"]["customer"], owner_id=org.rep_west.id,
                      department_id=org.rep_west.department_id)
        s.add(fu)
        s.commit()
        fu_id = fu.id
    session = scoped_session(gx, "rep_west", org)
    loaded = get_scoped(session, FollowUp, fu_id)
    assert loaded is not None
    assert loaded.customer is None
    session.close()


def test_session_without_scope_fails_closed(gx):
    session = gx.session_factory()
    with pytest.raises(ScopeMissing):
        session.execute(select(Customer)).all()
    with pytest.raises(ScopeMissing):
        session.execute(select(User)).all()
    session.close()


def test_identity_map_cannot_leak(gx, org, records):
    """An object already in the session (loaded under another scope) is not handed out by get_scoped."""
    session = gx.session_factory()
    with system_scope(session, "test: warm the identity map"):
        warm = session.execute(select(Customer).where(Customer.id == records["rep_east"]["customer"])).scalar_one()
        viewer = session.execute(select(User).where(User.id == org.rep_west.id)).scalar_one()
        scope = build_user_scope(session, viewer, gx.entities, gx.hook)
    set_scope(session, scope)
    assert warm in session  # it is in the identity map ...
    assert get_scoped(session, Customer, warm.id) is None  # ... but never returned out of scope
    session.close()


def test_bulk_update_and_delete_statements_are_scoped(gx, org, records):
    session = scoped_session(gx, "rep_west", org)
    session.execute(update(Customer).values(notes="hijacked").execution_options(synchronize_session=False))
    session.execute(delete(FollowUp).execution_options(synchronize_session=False))
    session.commit()
    session.close()
    with gx.system_session("check") as s:
        hijacked = set(s.execute(select(Customer.id).where(Customer.notes == "hijacked")).scalars())
        assert hijacked == {records["rep_west"]["customer"]}
        remaining = set(s.execute(select(FollowUp.id)).scalars())
        assert records["rep_west"]["followup"] not in remaining
        assert records["rep_east"]["followup"] in remaining


def _snapshot(gx):
    with gx.system_session("snapshot") as s:
        rows = []
        for model in (Customer, Contact, FollowUp):
            for r in s.execute(select(model).order_by(model.id).execution_options(include_deleted=True)).scalars():
                rows.append(repr(sorted((c.key, str(getattr(r, c.key))) for c in model.__mapper__.column_attrs)))
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def test_writes_across_scope_change_nothing(gx, org, records):
    """SECURITY.md 3: out-of-scope update/delete/transfer answer NotFound and no row changes."""
    before = _snapshot(gx)
    session = scoped_session(gx, "rep_west", org)
    spec = gx.entities["customer"]
    target = records["rep_east"]["customer"]
    with pytest.raises(services.NotFound):
        services.update(session, spec, target, {"name": "mine now"}, gx.entities)
    with pytest.raises(services.NotFound):
        services.delete(session, spec, target)
    with pytest.raises(services.NotFound):
        services.transfer(session, spec, [records["rep_west"]["customer"], target], org.rep_west.id)
    session.close()
    assert _snapshot(gx) == before


def test_no_ownership_forging(gx, org, records):
    """SECURITY.md 4: owners outside the caller's scope are refused on create, update and transfer."""
    before = _snapshot(gx)
    rep = scoped_session(gx, "rep_west", org)
    customer = gx.entities["customer"]
    with pytest.raises(ValidationError) as err:
        services.create(rep, customer, {"name": "forged", "owner_id": org.rep_east.id}, gx.entities)
    assert "owner_id" in err.value.messages
    with pytest.raises(ValidationError):
        services.update(rep, customer, records["rep_west"]["customer"], {"owner_id": org.rep_east.id}, gx.entities)
    with pytest.raises(ValidationError):
        services.transfer(rep, customer, [records["rep_west"]["customer"]], org.manager_west.id)
    # linking to a record one cannot see is refused too
    with pytest.raises(ValidationError) as err:
        services.create(rep, gx.entities["contact"], {"name": "x", "customer_id": records["rep_east"]["customer"]},
                        gx.entities)
    assert "customer_id" in err.value.messages
    rep.close()
    assert _snapshot(gx) == before

    manager = scoped_session(gx, "manager_east", org)
    made = services.create(manager, customer, {"name": "for my team", "owner_id": org.rep_east_sub.id}, gx.entities)
    assert made.department_id == org.rep_east_sub.department_id
    with pytest.raises(ValidationError):
        services.create(manager, customer, {"name": "other branch", "owner_id": org.rep_west.id}, gx.entities)
    manager.close()


def test_transfer_cascades_contacts_and_is_audited(gx, org, records):
    from core.models import AuditEntry
    manager = scoped_session(gx, "manager_east", org)
    services.transfer(manager, gx.entities["customer"], [records["rep_east"]["customer"]], org.rep_east_sub.id,
                      cascade=[(gx.entities["contact"], "customer_id")])
    manager.close()
    with gx.system_session("check") as s:
        contact = s.execute(select(Contact).where(Contact.id == records["rep_east"]["contact"])).scalar_one()
        assert contact.owner_id == org.rep_east_sub.id
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "transfer")).scalar_one()
        assert entry.changes == {"owner_id": [org.rep_east.id, org.rep_east_sub.id]}


def test_lost_update_is_refused(gx, org, records):
    """SECURITY.md 38: two sessions edit the same customer; the second one gets StaleVersion."""
    first = scoped_session(gx, "rep_east", org)
    second = scoped_session(gx, "rep_east", org)
    spec = gx.entities["customer"]
    cid = records["rep_east"]["customer"]
    version = services.get(first, spec, cid).version
    services.get(second, spec, cid)
    services.update(first, spec, cid, {"notes": "first", "version": version}, gx.entities)
    with pytest.raises(services.StaleVersion) as err:
        services.update(second, spec, cid, {"notes": "second", "version": version}, gx.entities)
    assert err.value.current_version == version + 1
    first.close()
    second.close()
    with gx.system_session("check") as s:
        assert s.execute(select(Customer.notes).where(Customer.id == cid)).scalar_one() == "first"


def test_concurrent_edits_without_version_never_interleave(gx, org, records):
    """Even without a client version, version_id_col refuses a flush based on a stale read."""
    spec = gx.entities["customer"]
    cid = records["rep_east"]["customer"]
    sessions = [scoped_session(gx, "rep_east", org) for _ in range(2)]
    loaded = [services.get(s, spec, cid) for s in sessions]
    loaded[0].notes = "a"
    sessions[0].commit()
    loaded[1].notes = "b"
    from sqlalchemy.orm.exc import StaleDataError
    with pytest.raises(StaleDataError):
        sessions[1].commit()
    for s in sessions:
        s.close()


def test_soft_deleted_rows_are_hidden_and_restorable(gx, org, records):
    rep = scoped_session(gx, "rep_east", org)
    spec = gx.entities["customer"]
    cid = records["rep_east"]["customer"]
    services.delete(rep, spec, cid)
    assert get_scoped(rep, Customer, cid) is None
    assert get_scoped(rep, Customer, cid, include_deleted=True) is not None
    services.restore(rep, spec, cid)
    assert get_scoped(rep, Customer, cid) is not None
    rep.close()
    # someone else cannot restore it
    services_session = scoped_session(gx, "rep_west", org)
    with pytest.raises(services.NotFound):
        services.restore(services_session, spec, cid)
    services_session.close()


def test_keyset_pages_cover_every_visible_row_once(gx, org, system_session):
    for i in range(23):
        system_session.add(Customer(name=f"C{i % 5}", owner_id=org.rep_east.id,
                                    department_id=org.rep_east.department_id))
    system_session.commit()
    rep = scoped_session(gx, "rep_east", org)
    spec = gx.entities["customer"]
    for sort in ("-id", "name", "-name", "updated_at"):
        seen, cursor = [], None
        while True:
            page = services.page(rep, spec, services.list_query(rep, spec), sort=sort, cursor=cursor, limit=5)
            seen += [r.id for r in page.rows]
            cursor = page.next_cursor
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 23, sort
        assert page.count == 23
    capped = services.page(rep, spec, services.list_query(rep, spec), limit=5, count_cap=10)
    assert capped.count == 10 and capped.count_capped
    rep.close()


def test_search_escapes_like_wildcards(gx, org, system_session):
    for name in ("100% 纯棉", "1000 pieces", "a_b", "axb"):
        system_session.add(Customer(name=name, owner_id=org.rep_east.id, department_id=org.rep_east.department_id))
    system_session.commit()
    rep = scoped_session(gx, "rep_east", org)
    spec = gx.entities["customer"]
    names = lambda q: {c.name for c in rep.execute(services.list_query(rep, spec, search=q)).scalars()}  # noqa: E731
    # "%" is punctuation to the search index and "100" a word prefix: never a LIKE wildcard
    assert names("100%") == {"100% 纯棉", "1000 pieces"}
    assert names("a_b") == {"a_b"}
    assert names("纯棉") == {"100% 纯棉"}
    rep.close()


def test_threads_each_keep_their_own_scope(gx, org, records):
    results = {}

    def worker(login):
        session = scoped_session(gx, login, org)
        results[login] = set(session.execute(select(Customer.id)).scalars())
        session.close()

    threads = [threading.Thread(target=worker, args=(login,)) for login in ("rep_east", "rep_west", "boss")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["rep_east"] == {records["rep_east"]["customer"]}
    assert results["rep_west"] == {records["rep_west"]["customer"]}
    assert len(results["boss"]) == len(records)
