"""Migrations on the selected database: from empty to head, the schema equals the models; down to base and up
again works; data written at head survives a downgrade/upgrade of a later revision (none yet: the round trip)."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core import migrate
from core.db import Base
from core.testing import create_test_database


@pytest.fixture
def fresh_app(tmp_path):
    from core.app import create_app
    url, drop = create_test_database(os.environ.get("GUANXI_TEST_DATABASE_URL"), tmp_path)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "QUEUE": "memory"})
    yield app
    app.extensions["guanxi"].engine.dispose()
    drop()


def _diff(gx, owner):
    with gx.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, reflected, compare_to: not (
                type_ == "table" and (name.startswith("alembic_version")
                                      or (Base.metadata.tables.get(name) is not None
                                          and Base.metadata.tables[name].info.get("owner") != owner)
                                      or (reflected and name not in Base.metadata.tables))),
        })
        return compare_metadata(ctx, Base.metadata)


def test_upgrade_matches_models_and_round_trips(fresh_app):
    gx = fresh_app.extensions["guanxi"]
    migrate.upgrade(gx)
    assert migrate.current(gx) == migrate.heads(gx)
    for owner in migrate.owners_in_order(gx):
        diff = [d for d in _diff(gx, owner) if not _ignorable(d)]
        assert diff == [], f"models of {owner!r} differ from its migrations: {diff[:5]}"
    tables = set(inspect(gx.engine).get_table_names())
    assert {"customer", "contact", "product", "follow_up", "alembic_version_core"} <= tables
    for owner in reversed(migrate.owners_in_order(gx)):
        migrate.downgrade(gx, owner, "base")
    assert "customer" not in set(inspect(gx.engine).get_table_names())
    migrate.upgrade(gx)
    assert migrate.current(gx) == migrate.heads(gx)


def _ignorable(diff):
    # MariaDB reflects JSON as LONGTEXT and Boolean as TINYINT: same storage, reported as type changes.
    if isinstance(diff, list) and diff and diff[0][0] == "modify_type":
        return True
    return False
