"""Web shell: CSRF, security headers, template helpers (menu, languages), and the core pages."""
from __future__ import annotations

from flask import Blueprint, g, render_template, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFProtect

from core.authz import has, login_required_only
from core.i18n import LANGUAGE_NAMES
from core.runtime import current

bp = Blueprint("web", __name__)
csrf = CSRFProtect()


def menu(section="main"):
    """Menu entries of ``section`` the current user may use, from every module's ``menu_items``."""
    user = g.get("user")
    if user is None:
        return []
    cache = g.setdefault("_menu_cache", {})
    if section not in cache:
        items = [item for group in current().hook.menu_items(user=user) for item in group or []]
        visible = [i for i in items if i.section == section and (i.permission is None or has(i.permission))]
        visible.sort(key=lambda i: (i.order, str(i.label)))
        for item in visible:
            item.url = url_for(item.endpoint, **item.url_kwargs)
        cache[section] = visible
    return cache[section]


@bp.route("/")
@login_required_only
def dashboard():
    return render_template("web/dashboard.html")


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app):
    csrf.init_app(app)
    app.after_request(_security_headers)

    @app.context_processor
    def _template_helpers():
        locale = get_locale()
        code = str(locale) if locale else app.config["DEFAULT_LANGUAGE"]
        return {
            "menu": menu,
            "has": has,
            "languages": [(c, LANGUAGE_NAMES.get(c, c)) for c in app.config["LANGUAGES"].split(",")],
            "current_locale_code": code,
            "current_locale_tag": code.replace("_", "-"),
        }

    app.register_blueprint(bp)
