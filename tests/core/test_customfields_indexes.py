"""An indexed custom field gets an expression index built from the very expression the list filter uses, and
the database's own EXPLAIN proves that a filter uses it (SQLite, PostgreSQL, MariaDB)."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from core import services
from core.customfields import indexes, service
from core.customfields.models import CustomFieldDef
from core.models import Customer
from tests.core.customfields_helpers import drop_all_indexes

ROWS = 300


@pytest.fixture(autouse=True)
def _clean_indexes(app):
    yield
    drop_all_indexes(app)


def has_index(session, name) -> bool:
    """Straight from the database's catalogue (SQLAlchemy does not reflect SQLite expression indexes)."""
    dialect = session.get_bind().dialect.name
    connection = session.connection()
    if dialect == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name"
    elif dialect == "postgresql":
        sql = "SELECT 1 FROM pg_indexes WHERE indexname = :name"
    else:
        sql = ("SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
               "AND index_name = :name")
    return connection.execute(text(sql), {"name": name}).first() is not None


def _field(app, **values):
    with app.app_context(), app.extensions["guanxi"].system_session("test") as s:
        row = service.create_field(s, "customer", {"label_en": "Indexed", "indexed": True, "filterable": True,
                                                   **values})
        return row.id, row.key


def _fill(session, owner, key, value_of):
    session.execute(insert(Customer), [
        {"name": f"Row {i}", "owner_id": owner.id, "department_id": owner.department_id, "kind": "company",
         "status": "potential", "custom": {key: value_of(i)}, "version": 1} for i in range(ROWS)])
    session.commit()


def _plan(app, session, key, value) -> str:
    """The database's plan for the list filter ``key = value`` (the statement the list page runs)."""
    spec = app.extensions["guanxi"].entities["customer"]
    with app.app_context():
        stmt = services.list_query(session, spec, filters={key: value})
    dialect = session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    connection = session.connection()
    if dialect.name == "sqlite":
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return " | ".join(str(row[-1]) for row in rows)
    if dialect.name == "postgresql":
        connection.execute(text("SET enable_seqscan = off"))
        rows = connection.execute(text(f"EXPLAIN {sql}")).all()
        connection.execute(text("SET enable_seqscan = on"))
        return " | ".join(row[0] for row in rows)
    connection.execute(text("ANALYZE TABLE customer"))
    rows = connection.execute(text(f"EXPLAIN {sql}")).mappings().all()
    return " | ".join(f"key={row['key']}" for row in rows)


def _expect_index(plan, name, dialect):
    if dialect in ("mysql", "mariadb"):
        assert f"key={name}" in plan, plan
    else:
        assert name in plan, plan


@pytest.mark.parametrize("kind,value_of,probe", [
    ("text", lambda i: f"code-{i}", "code-7"),
    ("integer", lambda i: i, 7),
    ("date", lambda i: f"2024-01-{i % 28 + 1:02d}", "2024-01-08"),
    ("money", lambda i: f"{i}.50", None),
])
def test_filter_on_an_indexed_field_uses_its_index(app, gx, org, system_session, kind, value_of, probe):
    field_id, key = _field(app, type=kind)
    _fill(system_session, org.rep_east, key, value_of)
    name = indexes.index_name(Customer, key)
    dialect = system_session.get_bind().dialect.name
    with app.app_context():
        ftype = service._types()[kind]
        fdef = system_session.get(CustomFieldDef, field_id)
        value = ftype.parse_filter(str(value_of(7)), fdef) if probe is None else probe
    plan = _plan(app, system_session, key, value)
    _expect_index(plan, name, dialect)
    # and the filter finds the right row through it
    spec = gx.entities["customer"]
    with app.app_context():
        rows = system_session.execute(services.list_query(system_session, spec, filters={key: value})).scalars().all()
    assert [r.name for r in rows] == ["Row 7"] if kind != "date" else all(r.custom[key] == value for r in rows)


def test_index_follows_deactivation_and_type_changes(app, gx, org, system_session):
    field_id, key = _field(app, type="integer")
    name = indexes.index_name(Customer, key)
    with app.app_context(), gx.system_session("t") as s:
        assert has_index(s, name)
        service.set_active(s, field_id, False)
        assert not has_index(s, name)
        service.set_active(s, field_id, True)
        assert has_index(s, name)
        service.update_field(s, field_id, {"type": "decimal", "label_en": "Indexed", "indexed": True,
                                           "filterable": True})
        assert has_index(s, name)
        service.update_field(s, field_id, {"type": "decimal", "label_en": "Indexed", "indexed": False})
        assert not has_index(s, name)
    assert Customer.__table__.indexes == {ix for ix in Customer.__table__.indexes if not ix.name.startswith("ixcf_")}
