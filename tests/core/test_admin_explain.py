""""Why can this user see this record?": the explanation agrees with the user's real visibility for every
(user, record) pair of the standard org, and its rule analysis predicts the same answer."""
import contextlib

import pytest
from sqlalchemy import select

from core import orgservice
from core.models import Customer, FollowUp, Product, User
from core.scope import build_user_scope, set_scope
from core.services import NotFound

OWNERS = ["rep_east", "rep_east_sub", "rep_west", "manager_east", "boss", "service", None]


@contextlib.contextmanager
def session_as(gx, user):
    session = gx.new_session()
    try:
        fresh = session.execute(select(User).where(User.id == user.id)).scalar_one()
        set_scope(session, build_user_scope(session, fresh, gx.entities, gx.hook))
        yield session
    finally:
        session.close()


@pytest.fixture
def records(org, system_session):
    """A customer and a follow-up per owner relation, plus a product (not owner-scoped)."""
    made = {"customer": [], "followup": [], "product": []}
    for login in OWNERS:
        owner = getattr(org, login) if login else None
        fields = {"owner_id": owner.id if owner else None, "department_id": owner.department_id if owner else None}
        customer = Customer(name=f"客户 {login}", **fields)
        system_session.add(customer)
        system_session.flush()
        follow_up = FollowUp(customer_id=customer.id, content=f"跟进 {login}", **fields)
        system_session.add(follow_up)
        system_session.flush()
        made["customer"].append(customer.id)
        made["followup"].append(follow_up.id)
    product = Product(code="P-1", name="Router")
    system_session.add(product)
    system_session.commit()
    made["product"].append(product.id)
    return made


def real_visible(gx, user, model):
    with session_as(gx, user) as session:
        return set(session.execute(select(model.id)).scalars())


def test_explanation_matches_real_visibility_for_every_pair(app, gx, org, records):
    models = {"customer": Customer, "followup": FollowUp, "product": Product}
    seen_rules = set()
    with app.test_request_context(), session_as(gx, org.admin) as admin_session:
        for user in org.users():
            for entity, ids in records.items():
                visible = real_visible(gx, user, models[entity])
                for record_id in ids:
                    answer = orgservice.explain(admin_session, user.id, entity, record_id)
                    expected = record_id in visible
                    assert answer.visible == expected, (user.login, entity, record_id)
                    assert answer.matched == expected, (user.login, entity, record_id, answer.rule)
                    seen_rules.add(answer.rule)
    assert seen_rules >= {"inactive", "none", "all", "own", "team"}


def test_explanation_names_roles_levels_and_the_matching_rule(app, gx, org, records):
    with app.test_request_context(), session_as(gx, org.admin) as admin_session:
        sub_customer = records["customer"][OWNERS.index("rep_east_sub")]
        answer = orgservice.explain(admin_session, org.manager_east.id, "customer", sub_customer)
        assert [(role.key, level) for role, level in answer.roles] == [("sales_manager", "team")]
        assert answer.level == "team" and answer.rule == "team" and answer.visible
        assert answer.facts["in_team"] and not answer.facts["owns"]
        west_customer = records["customer"][OWNERS.index("rep_west")]
        answer = orgservice.explain(admin_session, org.rep_east.id, "customer", west_customer)
        assert answer.rule == "own" and not answer.visible and not answer.facts["owns"]


def test_explain_page(app, org, records, client_as):
    admin = client_as(org.admin)
    record_id = records["customer"][OWNERS.index("rep_east_sub")]
    page = admin.get(f"/admin/explain?user={org.manager_east.id}&entity=customer&record={record_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "华东经理 East Manager can see this record." in html and "lies in his subtree" in html
    hidden = admin.get(f"/admin/explain?user={org.manager_west.id}&entity=customer&record={record_id}")
    hidden_html = hidden.get_data(as_text=True)
    assert "cannot see this record." in hidden_html and "outside his subtree" in hidden_html
    missing = admin.get(f"/admin/explain?user={org.manager_west.id}&entity=customer&record=999999")
    assert missing.status_code == 404 and "No such user or record." in missing.get_data(as_text=True)


def test_caller_who_cannot_see_the_record_gets_not_found(app, gx, org, records, system_session):
    """A limited administrator learns nothing about records outside his own scope."""
    with app.test_request_context():
        role = orgservice.create_role(system_session, "Role keeper", grants={
            "core.admin.roles": "all", "core.customer.view": "own"})
        keeper = system_session.execute(select(User).where(User.id == org.rep_west.id)).scalar_one()
        keeper.roles = [role]
        system_session.commit()
        with session_as(gx, org.rep_west) as session:
            other = records["customer"][OWNERS.index("rep_east")]
            with pytest.raises(NotFound):
                orgservice.explain(session, org.boss.id, "customer", other)
            own = records["customer"][OWNERS.index("rep_west")]
            assert orgservice.explain(session, org.boss.id, "customer", own).visible
