"""WSGI entry of the real Guanxi app for the load run (bundled plugins only, bench settings)::

    GUANXI_BENCH_URL=sqlite gunicorn --chdir bench app_wsgi:app
"""
import os

import common

app = common.make_app(common.resolve_url(os.environ.get("GUANXI_BENCH_URL", "sqlite")))
