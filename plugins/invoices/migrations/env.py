"""Alembic environment of the "invoices" lineage (version table ``alembic_version_invoices``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
