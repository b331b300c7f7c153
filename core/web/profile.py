"""The user's own page: who he is, language, password change and personal API tokens."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from core.auth import change_password, create_api_token
from core.authz import login_required_only
from core.db import utcnow
from core.i18n import LANGUAGE_NAMES, _
from core.models import ApiToken
from core.runtime import db
from core.web import bp
from core.web.common import ID


def _tokens(user):
    return db().execute(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                        .order_by(ApiToken.id.desc())).scalars().all()


def _render(status=200, **context):
    user = g.user
    languages = [(c, LANGUAGE_NAMES.get(c, c)) for c in current_app.config["LANGUAGES"].split(",") if c]
    context.setdefault("password_errors", {})
    return render_template("web/profile.html", user=user, tokens=_tokens(user), language_choices=languages,
                           role_names=[_role_name(role) for role in user.roles], **context), status


def _role_name(role) -> str:
    from core.plugin import STOCK_ROLE_NAMES  # stock roles are shown in the user's language
    return str(STOCK_ROLE_NAMES[role.key]) if role.is_stock and role.key in STOCK_ROLE_NAMES else role.name


@bp.route("/profile")
@login_required_only
def profile():
    return _render()


@bp.route("/profile/language", methods=["POST"])
@login_required_only
def profile_language():
    code = request.form.get("language", "")
    if code not in current_app.config["LANGUAGES"].split(","):
        return _render(422, language_error=_("Choose one of the offered languages."))
    g.user.language = code
    db().commit()
    flash(_("Language saved."), "success")
    return redirect(url_for("web.profile"))


@bp.route("/profile/password", methods=["POST"])
@login_required_only
def profile_password():
    new = request.form.get("new_password", "")[:1024]
    if new != request.form.get("confirm_password", "")[:1024]:
        errors = {"confirm_password": [_("The two new passwords differ.")]}
    else:  # changes and commits when everything is right
        errors = change_password(db(), g.user, request.form.get("current_password", "")[:1024], new,
                                 end_other_sessions=bool(request.form.get("end_other_sessions")))
    if errors:
        db().rollback()
        return _render(422, password_errors=errors)
    flash(_("Password changed."), "success")
    return redirect(url_for("web.profile"))


@bp.route("/profile/tokens", methods=["POST"])
@login_required_only
def token_create():
    name = (request.form.get("name") or "").strip()[:100]
    if not name:
        return _render(422, token_error=_("Give the token a name (what will use it?)."))
    token = create_api_token(db(), g.user, name)
    # Rendered, never flashed: the token must not travel in the session cookie.
    return _render(new_token=token, new_token_name=name)


@bp.route(f"/profile/tokens/<{ID}:token_id>/revoke", methods=["POST"])
@login_required_only
def token_revoke(token_id):
    token = db().execute(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == g.user.id,
                                                ApiToken.revoked_at.is_(None))).scalar_one_or_none()
    if token is None:
        abort(404)
    token.revoked_at = utcnow()
    db().commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for("web.profile"))
