"""Domain events leave services after commit; the audit trail records field changes (old -> new)."""
from sqlalchemy import select

from core import services, signals
from core.models import AuditEntry, Customer, User
from core.scope import build_user_scope, set_scope, system_scope


def _session_for(gx, user_id):
    session = gx.session_factory()
    with system_scope(session, "test"):
        user = session.execute(select(User).where(User.id == user_id)).scalar_one()
        scope = build_user_scope(session, user, gx.entities, gx.hook)
    set_scope(session, scope)
    return session


def test_signals_are_sent_after_commit(gx, org):
    seen = []

    def on_created(sender, record_id, user_id):
        # a different session must already see the row: the signal comes after commit
        with gx.system_session("receiver") as other:
            seen.append((sender, other.execute(select(Customer.name).where(Customer.id == record_id)).scalar_one(),
                         user_id))

    def on_updated(sender, record_id, user_id, changes):
        seen.append((sender, "updated", sorted(changes)))

    signals.record_created.connect(on_created)
    signals.record_updated.connect(on_updated)
    try:
        session = _session_for(gx, org.rep_east.id)
        spec = gx.entities["customer"]
        record = services.create(session, spec, {"name": "信号测试", "phone": "021-1234"}, gx.entities)
        services.update(session, spec, record.id, {"phone": "021-9999"}, gx.entities)
        services.update(session, spec, record.id, {"phone": "021-9999"}, gx.entities)  # no change, no event
        session.close()
    finally:
        signals.record_created.disconnect(on_created)
        signals.record_updated.disconnect(on_updated)
    assert seen == [("customer", "信号测试", org.rep_east.id), ("customer", "updated", ["phone"])]


def test_audit_trail_records_old_and_new_values(gx, org, system_session):
    session = _session_for(gx, org.procurement.id)
    spec = gx.entities["product"]
    product = services.create(session, spec, {"code": "A-1", "name": "阀门", "price": "10.00", "cost": "6.50"},
                              gx.entities)
    services.update(session, spec, product.id, {"cost": "7.25", "name": "球阀"}, gx.entities)
    session.close()
    entries = system_session.execute(select(AuditEntry).where(AuditEntry.entity == "product")
                                     .order_by(AuditEntry.id)).scalars().all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes == {"cost": ["6.50", "7.25"], "name": ["阀门", "球阀"]}
    assert entries[1].user_id == org.procurement.id

    from core.audit import history
    rep_view = history(system_session, spec, product.id, hidden_fields=spec.hidden_fields(
        build_user_scope(system_session, org.rep_east, gx.entities)))
    assert all("cost" not in changes for _entry, changes in rep_view)
    assert any("name" in changes for _entry, changes in rep_view)


def test_records_created_in_one_transaction_are_announced_only_after_its_commit(gx, org):
    announced = []

    def on_created(sender, record_id, user_id):
        announced.append(record_id)

    signals.record_created.connect(on_created)
    try:
        session = _session_for(gx, org.rep_east.id)
        spec = gx.entities["customer"]
        kept = [services.create(session, spec, {"name": f"批量{n}"}, gx.entities, commit=False).id for n in (1, 2)]
        assert announced == []  # flushed, not committed yet
        session.commit()
        assert announced == kept
        services.create(session, spec, {"name": "回滚"}, gx.entities, commit=False)
        session.rollback()
        session.commit()
        assert announced == kept  # the rolled-back record was never announced
        session.close()
    finally:
        signals.record_created.disconnect(on_created)
    with gx.system_session("test: read") as check:
        names = set(check.execute(select(Customer.name)).scalars())
    assert {"批量1", "批量2"} <= names and "回滚" not in names
