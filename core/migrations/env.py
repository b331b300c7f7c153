from alembic import context

from core.migrate import run_env

run_env(context)
