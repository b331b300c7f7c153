"""Authentication: server-side sessions, login throttling, login/logout, password change, API tokens.

The session cookie carries only a random session token; the ``user_session`` row (stored by its SHA-256)
decides whether it is still valid (idle and absolute timeout, logout, deactivation, password change).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core import signals
from core.authz import establish_scope, login_required_only, public
from core.db import utcnow
from core.i18n import _
from core.models import ApiToken, LoginThrottle, Role, User, UserSession
from core.passwords import burn_time, hash_password, needs_rehash, policy_errors, verify_password
from core.runtime import db

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------ sessions

def start_session(session_db, user: User) -> str:
    token = secrets.token_urlsafe(32)  # 256 bits
    session_db.add(UserSession(id=_digest(token), user_id=user.id, ip=(request.remote_addr or "")[:64],
                               user_agent=(request.user_agent.string or "")[:255]))
    return token


def revoke_sessions(session_db, user_id: int, keep_token: str | None = None):
    """End every session of a user (deactivation, password change), except ``keep_token``'s."""
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_token:
        stmt = stmt.where(UserSession.id != _digest(keep_token))
    session_db.execute(stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def _user_with_grants():
    """Loader options: the user's roles and their grants in the same query as the user (the data scope
    needs them on every request: one round trip instead of three)."""
    return (joinedload(User.roles).joinedload(Role.grants),)


@login_manager.user_loader
def _load_user(token: str):
    session_db = db()
    # The session row and its user (with roles and grants) in one query; every check below still runs on
    # every request: revocation, idle and absolute timeout, deactivation.
    found = session_db.execute(
        select(UserSession, User).outerjoin(User, User.id == UserSession.user_id)
        .where(UserSession.id == _digest(token)).options(*_user_with_grants())).unique().one_or_none()
    row, user = found if found is not None else (None, None)
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    cfg = current_app.config
    if now - row.last_seen_at > dt.timedelta(minutes=int(cfg["SESSION_IDLE_MINUTES"])) or \
            now - row.created_at > dt.timedelta(minutes=int(cfg["SESSION_ABSOLUTE_MINUTES"])):
        row.revoked_at = now
        session_db.commit()
        return None
    if user is None or not user.active:
        return None
    if now - row.last_seen_at > dt.timedelta(seconds=60):
        row.last_seen_at = now
        session_db.commit()
    user.get_id = lambda: token  # Flask-Login keeps the session token, never the user id
    g.session_token = token
    return user


def _load_user_from_token(req):
    """API requests authenticate with ``Authorization: Bearer <personal token>`` (no cookie, no CSRF)."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    session_db = db()
    row = session_db.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                    ApiToken.revoked_at.is_(None))).scalar_one_or_none()
    if row is None:
        return None
    user = session_db.execute(select(User).where(User.id == row.user_id).options(*_user_with_grants())
                              ).unique().scalar_one_or_none()
    if user is None or not user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now
        session_db.commit()
    g.api_token_id = row.id
    return user


def create_api_token(session_db, user: User, name: str) -> str:
    """Create a token and return it — the only time it is ever shown."""
    token = "gx_" + secrets.token_urlsafe(32)
    session_db.add(ApiToken(user_id=user.id, name=name[:100], prefix=token[:10], token_hash=_digest(token)))
    session_db.commit()
    return token


# ------------------------------------------------------------------ throttling

def _throttle_keys(login: str):
    return [f"account:{login.strip().lower()[:64]}", f"ip:{request.remote_addr or '-'}"]


def throttle_wait_seconds(session_db, login: str) -> int:
    """Seconds until another attempt is allowed: progressive delay, never a permanent lock."""
    cfg = current_app.config
    free = int(cfg["LOGIN_FREE_ATTEMPTS"])
    wait = 0
    for key in _throttle_keys(login):
        row = session_db.execute(select(LoginThrottle).where(LoginThrottle.key == key)).scalar_one_or_none()
        if row is None or row.failures < free:
            continue
        delay = min(2 ** (row.failures - free), int(cfg["LOGIN_MAX_DELAY_SECONDS"]))
        remaining = (row.last_failure_at + dt.timedelta(seconds=delay) - utcnow()).total_seconds()
        wait = max(wait, int(remaining) + (1 if remaining % 1 else 0))
    return max(wait, 0)


def _record_failure(session_db, login: str):
    for key in _throttle_keys(login):
        row = session_db.execute(select(LoginThrottle).where(LoginThrottle.key == key)).scalar_one_or_none()
        if row is None:
            session_db.add(LoginThrottle(key=key, failures=1, last_failure_at=utcnow()))
        else:
            row.failures += 1
            row.last_failure_at = utcnow()
    session_db.commit()


def _clear_failures(session_db, login: str):
    for key in _throttle_keys(login)[:1]:  # the address keeps its count: other accounts may be attacked
        row = session_db.execute(select(LoginThrottle).where(LoginThrottle.key == key)).scalar_one_or_none()
        if row is not None:
            session_db.delete(row)


def authenticate(session_db, login: str, password: str):
    """(user, error message). Same work and same answer for unknown accounts and wrong passwords."""
    wait = throttle_wait_seconds(session_db, login)
    if wait:
        return None, _("Too many failed attempts. Try again in %(s)d seconds.", s=wait)
    user = session_db.execute(select(User).where(User.login == login.strip())).scalar_one_or_none()
    if user is None or not user.password_hash:
        burn_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok or not user.active:
        _record_failure(session_db, login)
        return None, _("Wrong login or password.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _clear_failures(session_db, login)
    return user, None


# ------------------------------------------------------------------ views

def _safe_next(target):
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    login_value = ""
    if request.method == "POST":
        login_value = request.form.get("login", "")[:64]
        session_db = db()
        user, error = authenticate(session_db, login_value, request.form.get("password", "")[:1024])
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session at login (no fixation)
            if lang:
                session["lang"] = lang
            token = start_session(session_db, user)
            session_db.commit()
            user.get_id = lambda: token
            login_user(user)
            signals.user_logged_in.send(current_app._get_current_object(), user_id=user.id,
                                        ip=request.remote_addr)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, login_value=login_value), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required_only
def logout():
    token = g.get("session_token")
    if token:
        session_db = db()
        session_db.execute(update(UserSession).where(UserSession.id == _digest(token))
                           .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        session_db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
@public
def set_language(code):
    if code in current_app.config["LANGUAGES"].split(","):
        session["lang"] = code
        user = g.get("user")
        if user is not None:
            user.language = code
            db().commit()
    return redirect(_safe_next(request.form.get("next")))


def change_password(session_db, user: User, current_password: str, new_password: str, end_other_sessions=True):
    """Self-service change: needs the current password; returns a dict of field errors (empty = done)."""
    errors = {}
    if not verify_password(user.password_hash, current_password):
        errors["current_password"] = [_("The current password is wrong.")]
    problems = policy_errors(new_password, context=[user.login, user.name, user.email or "", "guanxi"])
    if problems:
        errors["new_password"] = [str(p) for p in problems]
    if errors:
        return errors
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    if end_other_sessions:
        revoke_sessions(session_db, user.id, keep_token=g.get("session_token"))
    session_db.commit()
    return {}


def init_app(app):
    login_manager.init_app(app)
    login_manager.session_protection = None  # our server-side session rows do this job
    login_manager.login_view = "auth.login"

    @app.before_request
    def _principal():
        from flask_login import current_user
        if request.path.startswith("/api/"):
            # The API trusts only personal tokens: a browser cookie must never authorise it (CSRF).
            user = _load_user_from_token(request)
        else:
            user = current_user._get_current_object() if current_user.is_authenticated else None
        establish_scope(user)

    app.register_blueprint(bp)
