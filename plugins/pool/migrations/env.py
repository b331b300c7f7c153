"""Alembic environment of the "pool" lineage (version table ``alembic_version_pool``).

``guanxi db upgrade`` runs it after core; ``guanxi db revision --module pool -m "..."`` adds a script.
"""
from alembic import context

from core.migrate import run_env

run_env(context)
