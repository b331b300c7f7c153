"""Alembic, one lineage per owner: core, then every enabled plugin in dependency order.

Each owner keeps its scripts in ``<package>/migrations/versions`` and its own version table
``alembic_version_<owner>``; autogenerate only sees the owner's tables (``table.info["owner"]``).
SQLite runs in batch mode. Nothing migrates implicitly: ``guanxi init`` / ``guanxi db upgrade`` do.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import Base


def migrations_dir(owner: str, pm=None) -> Path:
    if owner == "core":
        return Path(__file__).parent / "migrations"
    plugin = pm.get_plugin(owner)
    return Path(plugin.__file__).parent / "migrations"


def alembic_config(owner: str, connection=None, pm=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(owner, pm)))
    cfg.attributes["owner"] = owner
    cfg.attributes["connection"] = connection
    return cfg


def owners_in_order(gx) -> list[str]:
    """core first, then plugins with a migrations folder, in the order they were registered."""
    owners = ["core"]
    for name, plugin in gx.pm.list_name_plugin():
        module_file = getattr(plugin, "__file__", None)
        if name != "core" and module_file and (Path(module_file).parent / "migrations").is_dir():
            owners.append(name)
    return owners


def upgrade(gx, revision="heads"):
    with gx.engine.begin() as connection:
        for owner in owners_in_order(gx):
            command.upgrade(alembic_config(owner, connection, gx.pm), revision)


def downgrade(gx, owner: str, revision: str):
    with gx.engine.begin() as connection:
        command.downgrade(alembic_config(owner, connection, gx.pm), revision)


def current(gx) -> dict[str, str | None]:
    """Applied revision per owner (several, comma-separated and sorted, while a lineage has branches)."""
    result = {}
    with gx.engine.connect() as connection:
        for owner in owners_in_order(gx):
            ctx = MigrationContext.configure(connection, opts={"version_table": f"alembic_version_{owner}"})
            revisions = sorted(ctx.get_current_heads())
            result[owner] = ",".join(revisions) if revisions else None
    return result


def heads(gx) -> dict[str, str | None]:
    return {owner: ",".join(sorted(ScriptDirectory.from_config(alembic_config(owner, pm=gx.pm)).get_heads()))
            or None for owner in owners_in_order(gx)}


def revision(gx, owner: str, message: str, autogenerate=True):
    with gx.engine.begin() as connection:
        command.revision(alembic_config(owner, connection, gx.pm), message=message, autogenerate=autogenerate)


def _custom_field_ddl(name, type_) -> bool:
    """Expression indexes and MariaDB generated columns of indexed custom fields (``core.customfields``) are
    made at run time, not by migrations: autogenerate must not drop them."""
    return bool(name) and ((type_ == "index" and name.startswith("ixcf_"))
                           or (type_ == "column" and name.startswith("cf_") and name.endswith("_x")))


def run_env(context):
    """Body of every owner's ``env.py``."""
    owner = context.config.attributes["owner"]
    connection = context.config.attributes["connection"]

    def include_object(obj, name, type_, reflected, compare_to):
        if reflected and _custom_field_ddl(name, type_):
            return False
        if type_ == "table":
            table = obj if not reflected else Base.metadata.tables.get(name)
            return table is not None and table.info.get("owner") == owner
        return True

    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=f"alembic_version_{owner}",
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
