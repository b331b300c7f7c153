"""Alembic environment of the "visits" lineage (version table ``alembic_version_visits``).

``guanxi db upgrade`` runs it after core; ``guanxi db revision --module visits -m "..."`` adds a script.
"""
from alembic import context

from core.migrate import run_env

run_env(context)
