"""Flask app factory: ``create_app(config=None, plugins=())``.

Order: settings -> engine -> licence -> plugin host -> registries (models, permissions, entities) ->
extensions (CSRF, Babel, login) -> core blueprints -> plugin blueprints -> ``app_configured``.
"""
from __future__ import annotations

import importlib
import logging

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from core import licence as licence_mod
from core.config import load_settings, split_list
from core.db import Base, make_engine, make_session_factory
from core.plugins import load_plugins, make_plugin_manager
from core.runtime import Guanxi, close_request_session

log = logging.getLogger("guanxi")

CORE_PARTS = ("core.i18n", "core.auth", "core.web", "core.api", "core.admin", "core.jobs", "core.dedupe",
              "core.savedviews")


def create_app(config: dict | None = None, plugins=()):
    """Build the app. ``config`` overrides settings (tests); ``plugins``: extra ``(name, obj)`` pairs."""
    settings = load_settings(config)
    app = Flask("core", instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        MAX_CONTENT_LENGTH=int(settings["MAX_UPLOAD_MB"]) * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["SESSION_COOKIE_SECURE"]),
        SESSION_COOKIE_NAME="__Host-guanxi" if settings["SESSION_COOKIE_SECURE"] else "guanxi",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=bool(settings["SESSION_COOKIE_SECURE"]),
    )
    engine = make_engine(settings["DATABASE_URL"])
    session_factory = make_session_factory(engine)
    licence = licence_mod.load(settings["LICENSE_FILE"], split_list(settings["VENDOR_PUBLIC_KEYS"]))
    pm = make_plugin_manager()
    modules = load_plugins(
        pm,
        configured=set(split_list(settings["MODULES"])) or {"*"},
        licence=licence,
        disabled=_admin_disabled_modules(session_factory),
        extra=list(plugins),
    )
    gx = Guanxi(settings=settings, engine=engine, session_factory=session_factory, pm=pm, modules=modules,
                licence=licence)
    app.extensions["guanxi"] = gx
    # Services called outside a request (jobs, CLI, tests) find the hooks through the session they were given.
    session_factory.configure(info={"guanxi": gx})
    _collect_registries(gx)

    app.teardown_appcontext(close_request_session)
    for part in CORE_PARTS:
        importlib.import_module(part).init_app(app)
    pm.hook.register_blueprints(app=app)
    pm.hook.app_configured.call_historic(kwargs={"app": app})
    return app


def _admin_disabled_modules(session_factory) -> set[str]:
    """Modules an admin switched off; an empty database (before ``guanxi init``) has none."""
    from core.models import ModuleState
    from core.scope import system_scope

    session = session_factory()
    try:
        with system_scope(session, "read module states at start-up"):
            rows = session.execute(select(ModuleState).where(ModuleState.enabled.is_(False))).scalars()
            return {row.name for row in rows}
    except DBAPIError:
        return set()
    finally:
        session.close()


def _collect_registries(gx: Guanxi):
    pm = gx.pm
    for impl in pm.hook.register_models.get_hookimpls():
        module = pm.get_name(impl.plugin)
        for model in impl.function() or []:
            table = model.__table__
            if module != "core" and not table.name.startswith(f"{module}_"):
                raise RuntimeError(f"module {module!r}: table {table.name!r} must start with '{module}_'")
            owner = gx.model_owner.setdefault(table.name, module)
            if owner != module:
                raise RuntimeError(f"module {module!r} redefines table {table.name!r} of {owner!r}")
            table.info["owner"] = module
    for impl in pm.hook.register_permissions.get_hookimpls():
        module = pm.get_name(impl.plugin)
        for permission in impl.function() or []:
            gx.permissions.add(permission, module)
    for impl in pm.hook.entity_specs.get_hookimpls():
        module = pm.get_name(impl.plugin)
        for spec in impl.function() or []:
            gx.entities.add(spec)
            for action in ("view", "create", "edit", "delete"):
                if spec.permission(action) not in gx.permissions:
                    raise RuntimeError(f"entity {spec.name!r} needs permission {spec.permission(action)!r}")


def create_all_for_tests(app):
    """Create every table directly (used only when a test asks for it; real installs migrate)."""
    Base.metadata.create_all(app.extensions["guanxi"].engine)


def request_user():
    return g.get("user")
