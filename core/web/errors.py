"""HTML error pages (400 CSRF, 403, 404, 413, 500). Paths under ``/api/`` get the API's JSON body instead."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from core.i18n import _

log = logging.getLogger("guanxi.web")

API_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 413: "payload_too_large",
             500: "internal_error"}


def _api_answer(exc, status):
    """The API engineer's JSON answer when available, else the same shape built here."""
    try:
        from core.api.errors import api_error_response
    except ImportError:
        api_error_response = None
    if api_error_response is not None:
        response = api_error_response(exc)
        if response is not None:
            return response
    response = jsonify(error=API_CODES.get(status, "error"), message=getattr(exc, "description", "") or "")
    response.status_code = status
    return response


def _page(template, status, exc, **context):
    if request.path.startswith("/api/"):
        return _api_answer(exc, status)
    return render_template(template, **context), status


def forbidden(exc):
    return _page("errors/403.html", 403, exc)


def not_found(exc):
    return _page("errors/404.html", 404, exc)


def too_large(exc):
    from flask import current_app
    return _page("errors/413.html", 413, exc, max_mb=current_app.config.get("MAX_UPLOAD_MB"),
                 back=request.referrer if _same_site(request.referrer) else None)


def csrf_failed(exc):
    return _page("errors/400.html", 400, exc, message=_("Your session expired, please reload the form."))


def server_error(exc):
    if request.path.startswith("/api/"):
        return _api_answer(exc, 500)
    # A bare page: no menu, no database, so it renders even when the database is what failed.
    return render_template("errors/500.html"), 500


def _same_site(url):
    return bool(url) and url.startswith(request.host_url)


def register(app):
    app.register_error_handler(403, forbidden)
    app.register_error_handler(404, not_found)
    app.register_error_handler(413, too_large)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(500, server_error)
