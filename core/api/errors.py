"""JSON errors for every ``/api/`` path: ``{"error": code, "message": text, "fields": {...}}``.

``api_error_response(exc)`` is the one function that turns an ``HTTPException`` into the API's JSON body; it
returns None for other paths so the HTML error pages (owned by ``core.web``) stay in charge there. Views raise
``api_abort(status, fields=..., **extra)`` to add field messages or extra keys (``current_version``).
"""
from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from core.i18n import _l, plain

ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
    429: "too_many_requests", 500: "internal_error", 503: "unavailable",
}

MESSAGES = {
    400: _l("The request is not valid."),
    401: _l("Authentication required."),
    403: _l("You do not have permission to do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("The record was changed by someone else or conflicts with another record."),
    413: _l("The request is too large."),
    415: _l("Send the request body as application/json."),
    422: _l("Some fields are not valid."),
    429: _l("Too many requests. Try again later."),
    500: _l("An internal error occurred. It has been logged."),
    503: _l("The service is temporarily unavailable."),
}


def is_api_path(path: str | None = None) -> bool:
    return (path if path is not None else request.path).startswith("/api/")


def api_abort(status: int, fields: dict | None = None, message=None, **extra):
    """Raise the HTTP error ``status`` with optional field messages and extra body keys."""
    exc = default_exceptions[status]()
    exc.api_fields = field_messages(fields) if fields else None
    exc.api_message = message
    exc.api_extra = extra
    raise exc


def field_messages(errors: dict) -> dict:
    """marshmallow errors as ``{field: [text, ...]}``: lone messages become lists, nested ones (list items,
    mapping keys) become ``"key: message"`` lines, so every field maps to a flat list of strings."""
    return {str(name): _flatten(messages) for name, messages in plain(errors).items()}


def _flatten(messages, prefix="") -> list[str]:
    if isinstance(messages, dict):
        return [line for key, value in messages.items() for line in _flatten(value, f"{prefix}{key}: ")]
    if isinstance(messages, list):
        return [line for value in messages for line in _flatten(value, prefix)]
    return [f"{prefix}{messages}"]


def error_body(status: int, message=None, fields=None, **extra) -> Response:
    body = {"error": ERROR_CODES.get(status, "error"), "message": str(message or MESSAGES.get(status, ""))}
    if fields:
        body["fields"] = fields
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def api_error_response(exc) -> Response | None:
    """The JSON answer for ``exc`` on an ``/api/`` path, or None for any other path.

    Only our own messages go out: a 500 never carries the exception text (no traceback, no SQL); Flask has
    already logged the original exception.
    """
    if not is_api_path():
        return None
    if not isinstance(exc, HTTPException):
        exc = InternalServerError(original_exception=exc)
    status = exc.code or 500
    if status >= 500:
        return error_body(status)
    response = error_body(status, getattr(exc, "api_message", None), getattr(exc, "api_fields", None),
                          **(getattr(exc, "api_extra", None) or {}))
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="guanxi"'
    return response


def _api_first(html_handler):
    """Wrap an app-level handler of another part so that ``/api/`` paths still get JSON."""
    def handler(exc):
        response = api_error_response(exc)
        if response is not None:
            return response
        return html_handler(exc) if html_handler is not None else exc
    handler.guanxi_api_first = True
    return handler


def register_app_handlers(app):
    """Make every error under ``/api/`` JSON without taking the HTML error pages away from ``core.web``.

    (The API blueprint itself has one handler for ``HTTPException``, see ``core.api.blueprint``.)

    * the app: one handler for the ``HTTPException`` class (Flask asks it only when no handler for the
      specific code exists), chained after any class handler already there: routing errors under ``/api/``
      (unknown URL → 404, wrong method → 405) come out as JSON, every other path keeps its default;
    * code-specific app handlers registered before us (the HTML pages) are wrapped to answer JSON first
      on ``/api/`` paths and call the original otherwise.
    """
    app_handlers = app.error_handler_spec[None]
    for code, by_class in app_handlers.items():
        for exc_class, handler in list(by_class.items()):
            if not getattr(handler, "guanxi_api_first", False):
                by_class[exc_class] = _api_first(handler)
    if HTTPException not in app_handlers[None]:
        app.register_error_handler(HTTPException, _api_first(None))
