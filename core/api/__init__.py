"""REST API under ``/api/v1``: generic record endpoints built from the entity registry, the user and
department directory, the OpenAPI document and its docs page, and JSON errors for every ``/api/`` path.

Views call ``core.services`` with the request session (``core.runtime.db()``), which carries the caller's
data scope: the API sees exactly what the pages see.
"""
from core.api import directory, docs, records  # noqa: F401  (routes register on import)
from core.api import search  # noqa: F401,E402  (global search, core.search)
from core.api.blueprint import bp
from core.api.errors import api_error_response, register_app_handlers

__all__ = ["bp", "init_app", "api_error_response"]


def init_app(app):
    from core.web import csrf

    csrf.exempt(bp)
    register_app_handlers(app)
    app.register_blueprint(bp)
