"""Request and response bodies of the record endpoints: schema per caller, JSON-only input, and the one
place where service exceptions become HTTP answers."""
from __future__ import annotations

from flask import request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core import services
from core.api import columns
from core.api.errors import api_abort
from core.customfields import schema_for
from core.i18n import _


def dump_schema(spec, hidden):
    """The entity's schema (custom fields included) without the fields this caller may not see."""
    return schema_for(spec, exclude=hidden)


def load_schema(spec, hidden, partial=False):
    """Hidden fields are excluded, so a caller who sends them gets "Unknown field." (422), like any stranger."""
    return schema_for(spec, exclude=hidden, partial=partial)


def load_body(spec, hidden, partial=False) -> dict:
    """The JSON object of the request, loaded by the entity schema; 415 / 400 / 422 otherwise."""
    if not request.is_json:
        api_abort(415)
    body = request.get_json(silent=True)
    if body is None:
        api_abort(400, message=_("The request body is not valid JSON."))
    if not isinstance(body, dict):  # checked here: schema pre-load hooks may assume a mapping
        api_abort(422, fields={"_schema": [_("Send one JSON object.")]})
    try:
        data = load_schema(spec, hidden, partial).load(body)
    except ValidationError as err:
        api_abort(422, fields=err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
    unstorable = columns.problems(spec.model, data)
    if unstorable:
        api_abort(422, fields=unstorable)
    return data


def guarded(session, call, invalid_status=422):
    """Run a service call; turn its exceptions into API errors (after rolling back anything unfinished)."""
    try:
        return call()
    except services.Forbidden:
        api_abort(403)
    except services.NotFound:
        api_abort(404)
    except services.StaleVersion as exc:
        session.rollback()
        api_abort(409, current_version=exc.current_version)
    except StaleDataError:  # a delete racing an edit: the edit won
        session.rollback()
        api_abort(409)
    except ValidationError as err:
        session.rollback()
        api_abort(invalid_status, fields=err.messages if isinstance(err.messages, dict) else None)
    except IntegrityError:
        session.rollback()
        api_abort(409, message=_("This conflicts with existing data (for example, a code already in use)."))
    except DataError:
        session.rollback()
        api_abort(422, message=_("A value is out of range or too long."))
