"""Alembic environment of the "payments" lineage (version table ``alembic_version_payments``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
