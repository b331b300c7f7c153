"""Users: create, update, password set by an administrator, deactivate / reactivate, licence seats."""
from __future__ import annotations

import re

from marshmallow import ValidationError, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import audit
from core.auth import revoke_sessions
from core.db import utcnow
from core.i18n import _l
from core.models import Department, Role, User, user_role
from core.orgservice.common import (
    USERS, as_int, caller_id, current_gx, invalid, may_grant_role, request_token, require_manageable,
)
from core.passwords import hash_password, policy_errors
from core.scope import current_scope
from core.services import NotFound, require

LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
COMPANY_WORDS = ("guanxi",)
USER_FIELDS = ("login", "name", "email", "phone", "department_id", "role_ids", "language")


def get_user(session, user_id) -> User:
    require(session, USERS)
    user = session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"user {user_id}")
    return user


def list_users(session, department_id=None, role_id=None, active=None, limit=500):
    """Users for the admin list, filtered by department (with its subtree), role and active flag."""
    require(session, USERS)
    stmt = select(User).options(selectinload(User.department)).order_by(User.login).limit(limit)
    if department_id:
        dept = session.execute(select(Department).where(Department.id == department_id)).scalar_one_or_none()
        if dept is None:
            return []
        stmt = stmt.join(Department, User.department_id == Department.id).where(
            Department.path.startswith(dept.path))
    if role_id:
        stmt = stmt.where(User.id.in_(select(user_role.c.user_id).where(user_role.c.role_id == role_id)))
    if active is not None:
        stmt = stmt.where(User.active.is_(bool(active)))
    return session.execute(stmt).scalars().all()


def roles_for_assignment(session):
    """Every role, for the user form; ``may_grant_role`` tells which ones the caller may hand out."""
    require(session, USERS)
    return session.execute(select(Role).order_by(Role.is_stock.desc(), Role.name)).scalars().all()


def _clean_user_data(session, data, user=None) -> dict:
    """Validate the profile fields given in ``data``; returns the cleaned values or raises ValidationError."""
    errors, clean = {}, {}
    for name in USER_FIELDS:
        if name not in data:
            continue
        try:
            clean[name] = _USER_CLEANERS[name](session, data[name], user)
        except ValidationError as exc:
            errors[name] = exc.messages if isinstance(exc.messages, list) else [exc.messages]
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_login(session, value, user):
    value = (value or "").strip()
    if not LOGIN_PATTERN.match(value):
        raise ValidationError(_l("2 to 64 letters, digits or . _ - @, starting with a letter or digit."))
    taken = session.execute(select(User.id).where(func.lower(User.login) == value.lower())).scalar()
    if taken is not None and (user is None or taken != user.id):
        raise ValidationError(_l("This login is already taken."))
    return value


def _clean_name(session, value, user):
    value = (value or "").strip()
    if not value:
        raise ValidationError(_l("This field is required."))
    if len(value) > 100:
        raise ValidationError(_l("At most %(n)d characters.", n=100))
    return value


def _clean_email(session, value, user):
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 254:
        raise ValidationError(_l("At most %(n)d characters.", n=254))
    validate.Email(error=_l("Not a valid e-mail address."))(value)
    return value


def _clean_phone(session, value, user):
    value = (value or "").strip()
    if len(value) > 40:
        raise ValidationError(_l("At most %(n)d characters.", n=40))
    return value or None


def _clean_department(session, value, user):
    if value in (None, ""):
        return None
    dept_id = as_int(value)
    if dept_id is None or session.execute(select(Department.id).where(Department.id == dept_id)).scalar() is None:
        raise ValidationError(_l("Unknown department."))
    return dept_id


def _clean_roles(session, value, user):
    ids = [as_int(v) for v in (value or [])]
    if any(i is None for i in ids):
        raise ValidationError(_l("Unknown role."))
    roles = session.execute(select(Role).where(Role.id.in_(ids))).scalars().all() if ids else []
    if len(roles) != len(set(ids)):
        raise ValidationError(_l("Unknown role."))
    return roles


def _clean_language(session, value, user):
    value = (value or "").strip()
    gx = current_gx()
    allowed = gx.settings["LANGUAGES"].split(",") if gx else ["zh_CN", "en"]
    if value and value not in allowed:
        raise ValidationError(_l("Unknown language."))
    return value or None


_USER_CLEANERS = {"login": _clean_login, "name": _clean_name, "email": _clean_email, "phone": _clean_phone,
                  "department_id": _clean_department, "role_ids": _clean_roles, "language": _clean_language}


def _password_problems(password, login, name, email):
    context = [login or "", name or "", email or "", *COMPANY_WORDS]
    return [str(p) for p in policy_errors(password or "", context=context)]


def _check_seats(session, exclude_user_id=None):
    """Refuse one more active user when a licence with seats is loaded and every seat is taken."""
    gx = current_gx()
    licence = gx.licence if gx else None
    if licence is None or licence.seats is None:
        return
    stmt = select(func.count(User.id)).where(User.active.is_(True))
    if exclude_user_id is not None:
        stmt = stmt.where(User.id != exclude_user_id)
    used = session.execute(stmt).scalar_one()
    if used + 1 > licence.seats:
        raise invalid("active", _l("The licence allows %(seats)d active users and all seats are taken. "
                                    "Deactivate a user or extend the licence.", seats=licence.seats))


def _check_roles_change(session, user, new_roles):
    """Nobody edits his own roles; every role added or removed must be within the caller's grants."""
    scope = current_scope(session)
    old_ids = {r.id for r in user.roles} if user is not None else set()
    changed = [r for r in new_roles if r.id not in old_ids]
    if user is not None:
        new_ids = {r.id for r in new_roles}
        changed += [r for r in user.roles if r.id not in new_ids]
        if changed and user.id == scope.user_id:
            raise invalid("role_ids", _l("You cannot change your own roles."))
    refused = [r.name for r in changed if not may_grant_role(scope, r)]
    if refused:
        raise invalid("role_ids", _l("You may not grant or remove roles wider than your own: %(roles)s",
                                      roles=", ".join(refused)))


def create_user(session, data: dict) -> User:
    """Create a user from ``data`` (login, name, email, phone, department_id, role_ids, language, active,
    password). The password must pass the policy; seats of the licence are enforced for active users."""
    require(session, USERS)
    data = {"login": "", "name": "", **data}
    errors, clean = {}, {}
    try:
        clean = _clean_user_data(session, data)
    except ValidationError as exc:
        errors.update(exc.messages)
    problems = _password_problems(data.get("password"), data["login"], data["name"], data.get("email"))
    if problems:
        errors["password"] = problems
    if errors:  # every field's problem at once, not one per attempt
        raise ValidationError(errors)
    roles = clean.pop("role_ids", [])
    _check_roles_change(session, None, roles)
    active = bool(data.get("active", True))
    if active:
        _check_seats(session)
    user = User(**clean, active=active, password_hash=hash_password(data["password"]),
                password_changed_at=utcnow())
    user.roles = roles
    session.add(user)
    session.flush()
    audit.record(session, "user", user.id, "create", caller_id(session),
                 {**{k: [None, v] for k, v in clean.items() if v is not None},
                  "roles": [None, sorted(r.key for r in roles)], "active": [None, active]})
    session.commit()
    return user


def update_user(session, user_id, data: dict) -> User:
    """Change profile fields and roles of a user (partial: only keys present in ``data``)."""
    user = get_user(session, user_id)
    require_manageable(session, user)
    clean = _clean_user_data(session, data, user)
    changes = {}
    if "role_ids" in clean:
        roles = clean.pop("role_ids")
        _check_roles_change(session, user, roles)
        old, new = sorted(r.key for r in user.roles), sorted(r.key for r in roles)
        if old != new:
            changes["roles"] = [old, new]
            user.roles = roles
    for name, value in clean.items():
        if getattr(user, name) != value:
            changes[name] = [getattr(user, name), value]
            setattr(user, name, value)
    if changes:
        audit.record(session, "user", user.id, "update", caller_id(session), changes)
    session.commit()
    return user


def set_password(session, user_id, password: str) -> User:
    """An administrator sets a user's password: policy checked, every session of the user ended, audited as
    ``password_reset`` (the password itself is never stored anywhere but as its hash)."""
    user = get_user(session, user_id)
    require_manageable(session, user)
    problems = _password_problems(password, user.login, user.name, user.email)
    if problems:
        raise ValidationError({"password": problems})
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    # Every session of the user ends; an administrator resetting his own password keeps the current one.
    revoke_sessions(session, user.id, keep_token=request_token() if user.id == caller_id(session) else None)
    audit.record(session, "user", user.id, "password_reset", caller_id(session), {})
    session.commit()
    return user


def deactivate_user(session, user_id) -> User:
    """Switch a user off and end every session he has (his next request is anonymous)."""
    user = get_user(session, user_id)
    require_manageable(session, user)
    if user.id == caller_id(session):
        raise invalid("active", _l("You cannot deactivate yourself."))
    if user.active:
        user.active = False
        audit.record(session, "user", user.id, "deactivate", caller_id(session), {"active": [True, False]})
    revoke_sessions(session, user.id)
    session.commit()
    return user


def reactivate_user(session, user_id) -> User:
    user = get_user(session, user_id)
    require_manageable(session, user)
    if not user.active:
        _check_seats(session, exclude_user_id=user.id)
        user.active = True
        audit.record(session, "user", user.id, "reactivate", caller_id(session), {"active": [False, True]})
    session.commit()
    return user


def seats_used(session) -> int:
    return session.execute(select(func.count(User.id)).where(User.active.is_(True))).scalar_one()

