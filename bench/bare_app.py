"""The baseline: a bare Flask page that reads 50 customers by keyset with raw SQL and renders a table.

No login, no data scope, no ORM, no menu — what any Flask page with the same rows costs on this machine.
``timings.py`` times it through its test client; ``load.sh`` serves it with gunicorn::

    GUANXI_BENCH_URL=sqlite gunicorn --chdir bench 'bare_app:create_bare_app()'
"""
from __future__ import annotations

import os

from flask import Flask, render_template_string, request
from sqlalchemy import text

import common

KEYSET_SQL = text(
    "SELECT c.id, c.name, c.status, c.level, c.phone, c.city, u.name AS owner, c.updated_at "
    "FROM customer c LEFT JOIN user_account u ON u.id = c.owner_id "
    "WHERE c.deleted_at IS NULL AND c.id < :before ORDER BY c.id DESC LIMIT 50")

TABLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customers</title>
<link rel="stylesheet" href="/static/bootstrap.min.css"></head>
<body><main class="container">
<h1>Customers</h1>
<table class="table table-sm table-hover">
<thead><tr><th>Name</th><th>Status</th><th>Level</th><th>Phone</th><th>City</th><th>Owner</th><th>Updated</th></tr>
</thead><tbody>
{% for row in rows %}<tr><td><a href="/customer/{{ row.id }}">{{ row.name }}</a></td><td>{{ row.status }}</td>
<td>{{ row.level or '' }}</td><td>{{ row.phone or '' }}</td><td>{{ row.city or '' }}</td>
<td>{{ row.owner or '' }}</td><td>{{ row.updated_at }}</td></tr>
{% endfor %}</tbody></table>
{% if rows %}<a href="?before={{ rows[-1].id }}">Next</a>{% endif %}
</main></body></html>"""


def create_bare_app(url: str | None = None):
    from core.db import make_engine

    url = common.resolve_url(url or os.environ.get("GUANXI_BENCH_URL", "sqlite"))
    engine = make_engine(url)
    app = Flask("bare")

    @app.route("/")
    def customers():
        before = request.args.get("before", type=int) or 2 ** 31 - 1
        with engine.connect() as conn:
            rows = conn.execute(KEYSET_SQL, {"before": before}).all()
        return render_template_string(TABLE, rows=rows)

    app.extensions["bench_engine"] = engine
    return app
