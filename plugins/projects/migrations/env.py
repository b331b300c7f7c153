"""Alembic environment of the "projects" lineage (version table ``alembic_version_projects``)."""
from alembic import context

from core.migrate import run_env

run_env(context)
