"""Alembic environment of the "orders" lineage (version table ``alembic_version_orders``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
