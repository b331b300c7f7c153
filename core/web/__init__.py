"""Web shell: CSRF, security headers, template helpers (menu, languages), error pages and the core pages.

Every page of every entity is generic: it is driven by the ``EntitySpec`` registry, so a plugin's entity
gets its list, export, detail, forms, recycle bin, search, attachments and audit trail with no extra code.

Modules: ``views_list`` (list, export, bulk transfer, lookup), ``views_record`` (detail, forms, delete,
restore), ``views_search`` (global search, recycle bin), ``views_attachments``, ``profile``, ``errors``;
helpers ``listing``, ``forms``, ``display``, ``pickers``, ``panels``, ``export``, ``widgets``.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from babel import Locale
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
    user = g.user
    widgets = [w for group in current().hook.dashboard_widgets(user=user) for w in group or []]
    widgets.sort(key=lambda w: (w.order, str(w.title)))
    from core.web.rendering import render_widget
    tiles = [(widget, render_widget(widget, widget.load())) for widget in widgets]
    return render_template("web/dashboard.html", tiles=tiles)


def _refuse_foreign_origin():
    """A state-changing request that a browser marks as coming from another site is refused (CSRF
    defence in depth, on top of the token)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith("/api/"):
        return None  # the API authenticates by token only, never by cookie
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(400, description="cross-site request refused")
    if origin == "null":
        abort(400, description="cross-site request refused")
    return None


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
        # a view that allows framing sets its own CSP (the web-to-lead form); old browsers read only this
        response.headers.setdefault("X-Frame-Options", "DENY")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _configured_code(locale, codes, default) -> str:
    """The configured language code ("zh_CN") of Babel's locale (which prints as "zh_Hans_CN")."""
    if locale is not None:
        for code in codes:
            if Locale.parse(code) == locale:
                return code
    return default


def init_app(app):
    from core.web import errors

    csrf.init_app(app)
    app.before_request(_refuse_foreign_origin)
    app.after_request(_security_headers)
    errors.register(app)

    @app.context_processor
    def _template_helpers():
        codes = [c for c in app.config["LANGUAGES"].split(",") if c]
        code = _configured_code(get_locale(), codes, app.config["DEFAULT_LANGUAGE"])
        return {
            "menu": menu,
            "has": has,
            "languages": [(c, LANGUAGE_NAMES.get(c, c)) for c in codes],
            "current_locale_code": code,
            "current_locale_tag": code.replace("_", "-"),
        }

    from core.web.display import plain_value
    app.add_template_filter(plain_value, "display")
    from core.money import format_money
    app.add_template_filter(format_money, "money")  # {{ amount|money(currency) }}
    from core import mail  # noqa: F401  (registers the job "core.mail.deliver" before the queue starts)
    app.register_blueprint(bp)


# Routes register on import; these modules use ``bp`` from above.
from core.web import profile, views_attachments, views_list, views_record, views_search  # noqa: E402,F401
from core.customfields import views as _customfield_views  # noqa: E402,F401  (column chooser)
from core.web import views_import  # noqa: E402,F401  (import pages, XLSX export, export jobs)
