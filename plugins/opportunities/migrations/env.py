"""Alembic environment of the "opportunities" lineage (version table ``alembic_version_opportunities``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
