"""Alembic environment of the "leads" lineage (version table ``alembic_version_leads``).

``guanxi db upgrade`` runs it after core; ``guanxi db revision --module leads -m "..."`` adds a script.
"""
from alembic import context

from core.migrate import run_env

run_env(context)
