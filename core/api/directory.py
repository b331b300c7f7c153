"""Read-only directory of users and departments (permission ``core.user.view``), keyset paginated.

Users carry id, login, name, email, phone, department, active flag and role keys — never a password hash,
session or token: the output schemas below list every field that may leave.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import jsonify, request
from marshmallow import Schema, fields
from sqlalchemy import or_, select

from core import services
from core.api.bodies import guarded
from core.api.blueprint import bp
from core.api.columns import int_limit
from core.api.errors import api_abort
from core.api.params import parse_list_params
from core.authz import requires
from core.i18n import _l
from core.models import Department, User
from core.runtime import current, db

PERMISSION = "core.user.view"


class RoleKeySchema(Schema):
    key = fields.String()


class UserOutSchema(Schema):
    """A user as the directory shows it."""

    id = fields.Integer(dump_only=True)
    login = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True, allow_none=True)
    phone = fields.String(dump_only=True, allow_none=True)
    department_id = fields.Integer(dump_only=True, allow_none=True)
    active = fields.Boolean(dump_only=True)
    roles = fields.Pluck(RoleKeySchema, "key", many=True, dump_only=True,
                         metadata={"description": "keys of the user's roles"})


class DepartmentOutSchema(Schema):
    """A node of the company tree; ``path`` is the materialised path ``/1/4/9/``."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    parent_id = fields.Integer(dump_only=True, allow_none=True)
    path = fields.String(dump_only=True)
    manager_id = fields.Integer(dump_only=True, allow_none=True)


@dataclass
class Listing:
    """What ``services.page`` needs of a list that is not an entity: the model and its sort keys."""

    name: str
    label: object
    model: type
    schema: type
    sort_fields: tuple
    filter_fields: dict
    search_fields: tuple


USERS = Listing("users", _l("Users"), User, UserOutSchema, ("id", "login", "name"),
                {"department_id": fields.Integer(), "active": fields.Boolean()}, ("login", "name", "email"))
DEPARTMENTS = Listing("departments", _l("Departments"), Department, DepartmentOutSchema, ("id", "name", "path"),
                      {"parent_id": fields.Integer()}, ("name",))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _list(listing: Listing):
    params = parse_list_params(request.args, model=listing.model, filter_fields=listing.filter_fields,
                               sort_fields=listing.sort_fields, default_sort="id")
    model = listing.model
    stmt = select(model).where(*[getattr(model, name) == value for name, value in params.filters.items()])
    if params.search:
        term = f"%{_escape_like(params.search)}%"
        stmt = stmt.where(or_(*[getattr(model, f).ilike(term, escape="\\") for f in listing.search_fields]))
    session = db()
    page = guarded(session, lambda: services.page(
        session, listing, stmt, sort=params.sort, cursor=params.cursor, limit=params.limit,
        count_cap=int(current().settings["COUNT_CAP"])), invalid_status=400)
    return jsonify(items=listing.schema(many=True).dump(page.rows), next_cursor=page.next_cursor,
                   count=page.count, count_capped=page.count_capped)


@bp.get("/v1/users")
@requires(PERMISSION)
def user_list():
    return _list(USERS)


@bp.get("/v1/users/<int:user_id>")
@requires(PERMISSION)
def user_detail(user_id):
    if user_id > int_limit(User, "id"):
        api_abort(404)
    user = db().execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        api_abort(404)
    return jsonify(UserOutSchema().dump(user))


@bp.get("/v1/departments")
@requires(PERMISSION)
def department_list():
    return _list(DEPARTMENTS)
