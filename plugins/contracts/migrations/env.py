"""Alembic environment of the "contracts" lineage (version table ``alembic_version_contracts``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
