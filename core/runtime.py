"""The running instance: settings, engine, plugin manager and registries, and the request session.

``current()`` returns the ``Guanxi`` object of the current Flask app; ``db()`` the request's session, which
carries the logged-in user's data scope.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from flask import current_app, g, has_request_context

from core.entities import EntityRegistry
from core.permissions import PermissionRegistry
from core.scope import AnonymousScope, set_scope, system_scope


@dataclass
class Guanxi:
    settings: dict
    engine: object
    session_factory: object
    pm: object
    modules: dict
    licence: object = None
    permissions: PermissionRegistry = field(default_factory=PermissionRegistry)
    entities: EntityRegistry = field(default_factory=EntityRegistry)
    model_owner: dict = field(default_factory=dict)  # table name -> module

    def new_session(self, scope=None):
        session = self.session_factory()
        set_scope(session, scope or AnonymousScope(self.entities))
        return session

    @contextlib.contextmanager
    def system_session(self, reason: str):
        """A session with the explicit, logged system scope (jobs, CLI, start-up)."""
        session = self.session_factory()
        try:
            with system_scope(session, reason):
                yield session
        finally:
            session.close()

    @property
    def hook(self):
        return self.pm.hook


def current() -> Guanxi:
    return current_app.extensions["guanxi"]


def db():
    """The current request's session (created on first use, closed at teardown)."""
    if not has_request_context():
        raise RuntimeError("db() outside a request: use current().system_session(reason)")
    session = g.get("_guanxi_session")
    if session is None:
        session = g._guanxi_session = current().new_session()
    return session


def close_request_session(_exc=None):
    session = g.pop("_guanxi_session", None)
    if session is not None:
        session.close()
