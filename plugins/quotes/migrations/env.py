"""Alembic environment of the "quotes" lineage (version table ``alembic_version_quotes``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
