"""Saved views: validation, saving, the views a user may use, sharing and deleting.

A view stores the list page's query string. It is validated by the list page's own argument parser
(``core.web.listing.parse_list_args``) for the *current* user: what the list would ignore or refuse (an
unknown argument, a hidden or unknown field, a bad value) makes the query invalid. Applying a view only
turns it back into list arguments, so the list still runs in the viewer's own data scope: a shared view can
narrow what a user sees, never widen it.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import or_, select

from core.i18n import _l
from core.models import Department, Role
from core.savedviews.models import MAX_QUERY_LENGTH, SavedView
from core.scope import current_scope

MAX_NAME_LENGTH = 100
MAX_COLUMNS = 60
PAGE_STATE = ("cursor", "view")  # where the user is in the list, not what he looks at: never saved
ADMIN_PERMISSION = "core.admin.views"


class NotFound(Exception):
    """No such view, or not one this user may use (deliberately indistinguishable)."""


def _invalid(message):
    return ValidationError({"query": [str(message)]})


def clean_query(spec, query: str) -> str:
    """The canonical query string of a list state, or ``ValidationError`` when the list page would not
    accept every argument as given (call inside a request: the current user's hidden fields count)."""
    query = (query or "").lstrip("?")
    if len(query) > MAX_QUERY_LENGTH:
        raise _invalid(_l("The list state is too long to save."))
    try:
        pairs = [(k, v.strip()) for k, v in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query),
                                                      max_num_fields=100)
                 if k not in PAGE_STATE and v.strip() != "" and (k, v.strip()) != ("sort", "-id")]  # -id: default
    except ValueError:
        raise _invalid(_l("The list state is not valid.")) from None
    accepted = _accepted_arguments(spec, pairs)
    for key, value in pairs:
        if accepted.get(key) != value:
            raise _invalid(_l("The list state contains an argument the list does not accept: %(name)s.",
                              name=key[:50]))
    if len(pairs) != len({k for k, _v in pairs}):
        raise _invalid(_l("The list state repeats an argument."))
    return urlencode(pairs)


def _accepted_arguments(spec, pairs) -> dict:
    """The arguments the list page keeps when it parses ``pairs`` (its canonical ``query_args``)."""
    from core.web import listing

    # A request context of its own for the parser (which reads ``request.args``); it shares the current
    # app context, so ``g.user`` and the request session with the user's scope stay the same.
    with current_app.test_request_context("/", query_string=urlencode(pairs)):
        args = listing.parse_list_args(spec)
        return {key: str(value) for key, value in args.query_args().items()}


def save(session, spec, user_id: int, name: str, query: str, columns=()) -> SavedView:
    """Create the user's view ``name`` for ``spec`` (or replace the state of his view of that name).

    ``columns``: the list's current columns (``core.web.listing.visible_columns``)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValidationError({"name": [str(_l("Give the view a name of at most %(n)d characters.",
                                               n=MAX_NAME_LENGTH))]})
    query = clean_query(spec, query)
    view = session.execute(select(SavedView).where(SavedView.user_id == user_id, SavedView.entity == spec.name,
                                                   SavedView.name == name)).scalar_one_or_none()
    if view is None:
        view = SavedView(user_id=user_id, entity=spec.name, name=name)
        session.add(view)
    view.query = query
    view.columns = [str(name)[:100] for name in columns][:MAX_COLUMNS]
    session.commit()
    return view


def apply_columns(session, spec, user_id: int, view: SavedView) -> None:
    """Make the view's columns the user's column choice for the list (only those he may see are kept)."""
    from core.customfields import web as custom_web
    from core.web import listing

    custom_web.save_columns(session, spec, user_id, list(view.columns or []), listing.choosable_columns(spec))


def _ancestor_ids(session, department_id) -> list[int]:
    """The user's department and every department above it (a view shared with one of them reaches him)."""
    if department_id is None:
        return []
    path = session.execute(select(Department.path).where(Department.id == department_id)).scalar_one_or_none()
    return [int(part) for part in (path or "").split("/") if part.isdigit()]


def visible_filter(session, user):
    """Views ``user`` may use: his own, and those shared with one of his roles or his department subtree."""
    role_ids = [role.id for role in user.roles]
    conditions = [SavedView.user_id == user.id]
    if role_ids:
        conditions.append(SavedView.role_id.in_(role_ids))
    departments = _ancestor_ids(session, user.department_id)
    if departments:
        conditions.append(SavedView.department_id.in_(departments))
    return or_(*conditions)


def views_for(session, spec, user) -> list[SavedView]:
    """The views of ``spec`` that ``user`` may use, his own first, then by name."""
    stmt = (select(SavedView).where(SavedView.entity == spec.name, visible_filter(session, user))
            .order_by((SavedView.user_id != user.id), SavedView.name, SavedView.id))
    return list(session.execute(stmt).scalars())


def get_visible(session, view_id: int, user) -> SavedView:
    view = session.execute(select(SavedView).where(SavedView.id == view_id, visible_filter(session, user))
                           ).scalar_one_or_none()
    if view is None:
        raise NotFound(view_id)
    return view


def get_manageable(session, view_id: int, user) -> SavedView:
    """A view the user may change: his own, or any one he can use when he administers views."""
    view = get_visible(session, view_id, user)
    if view.user_id != user.id and not current_scope(session).has(ADMIN_PERMISSION):
        raise NotFound(view_id)
    return view


def share(session, view: SavedView, role_id, department_id) -> SavedView:
    """Share ``view`` with a role and/or a department subtree (None: not shared that way). Needs
    ``core.admin.views``; the caller loaded ``view`` with ``get_manageable``."""
    if not current_scope(session).has(ADMIN_PERMISSION):
        raise PermissionError(ADMIN_PERMISSION)
    errors = {}
    if role_id is not None and session.execute(select(Role.id).where(Role.id == role_id)).first() is None:
        errors["role_id"] = [str(_l("Unknown role."))]
    if department_id is not None and session.execute(
            select(Department.id).where(Department.id == department_id)).first() is None:
        errors["department_id"] = [str(_l("Unknown department."))]
    if errors:
        raise ValidationError(errors)
    view.role_id, view.department_id = role_id, department_id
    session.commit()
    return view


def delete(session, view: SavedView) -> None:
    session.delete(view)
    session.commit()
