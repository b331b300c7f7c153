"""The API blueprint: ``/api/v1/...`` endpoints and the docs page ``/api/docs``.

Cookies never authenticate it (``core.auth`` reads only ``Authorization: Bearer``), so it is exempt from CSRF.
Every error its views raise (and every 500) answers JSON.
"""
from flask import Blueprint
from werkzeug.exceptions import HTTPException

from core.api.errors import api_error_response

bp = Blueprint("api", __name__, url_prefix="/api")
bp.register_error_handler(HTTPException, api_error_response)
