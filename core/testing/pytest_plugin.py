"""Pytest fixtures for Guanxi and its plugins (registered through the ``pytest11`` entry point).

``app`` (clean database each test), ``org`` (department tree + a user per stock role), ``client_as(user)``,
``api_as(user)``, ``app_with(modules=..., plugins=..., **config)``, ``register_plugin(obj)``,
``system_session``, ``count_queries``, ``csrf``, ``consumer_for(app)``, ``smtp_server`` (a real SMTP server
on a free port; the ``app``'s ``MAIL_*`` point at it; ``.messages`` = received ``EmailMessage`` objects).
"""
from __future__ import annotations

import contextlib
import os

import pytest
from sqlalchemy import event

from core.testing import (
    TEST_PASSWORD, Org, api_token, create_test_database, csrf_token, login_client, wipe,
)


def make_test_app(database_url, instance_path, modules="*", plugins=(), **config):
    """Build, migrate and seed an app on ``database_url``."""
    from core import migrate
    from core.app import create_app
    from core.seed import seed_roles

    settings = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance_path), "MODULES": modules,
                "SECRET_KEY": "test-secret-key", "QUEUE": "memory", "LICENSE_FILE": None,
                "DEFAULT_LANGUAGE": "en", **config}
    app = create_app(settings, plugins=plugins)
    app.config["TESTING"] = True
    gx = app.extensions["guanxi"]
    migrate.upgrade(gx)
    with gx.system_session("test: seed roles") as session:
        seed_roles(session, gx)
    return app


@pytest.fixture(scope="session")
def guanxi_database(tmp_path_factory):
    url, drop = create_test_database(os.environ.get("GUANXI_TEST_DATABASE_URL"),
                                     tmp_path_factory.mktemp("db"))
    yield url
    drop()


@pytest.fixture(scope="session")
def guanxi_instance(tmp_path_factory):
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def _guanxi_session_app(guanxi_database, guanxi_instance):
    app = make_test_app(guanxi_database, guanxi_instance)
    yield app
    app.extensions["guanxi"].engine.dispose()


@pytest.fixture
def app(_guanxi_session_app):
    """The app with every installed module, on a freshly wiped database."""
    wipe(_guanxi_session_app.extensions["guanxi"])
    return _guanxi_session_app


@pytest.fixture
def gx(app):
    return app.extensions["guanxi"]


@pytest.fixture(scope="session")
def _password_hash():
    from core.passwords import hash_password
    return hash_password(TEST_PASSWORD)


@pytest.fixture
def org(app, _password_hash):
    return Org(app.extensions["guanxi"], _password_hash)


@pytest.fixture
def client_as(app):
    return lambda user, target=None: login_client(target or app, user)


class ApiClient:
    """A test client that sends ``Authorization: Bearer <token>`` with every request."""

    def __init__(self, app, user):
        self.client = app.test_client()
        self.user = user
        self.headers = {"Authorization": f"Bearer {api_token(app, user)}"}

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def send(*args, **kwargs):
            kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
            return call(*args, **kwargs)
        return send


@pytest.fixture
def api_as(app):
    return lambda user, target=None: ApiClient(target or app, user)


@pytest.fixture
def csrf():
    return csrf_token


@pytest.fixture
def app_with(guanxi_database, guanxi_instance, app):
    """Another app on the same (wiped) database: ``app_with(modules="a,b", plugins=[(name, obj)], **config)``."""
    made = []

    def factory(modules="*", plugins=(), **config):
        new = make_test_app(guanxi_database, guanxi_instance, modules=modules, plugins=plugins, **config)
        made.append(new)
        return new

    yield factory
    for extra in made:
        extra.extensions["guanxi"].engine.dispose()


@pytest.fixture
def register_plugin(app_with):
    return lambda obj, name="testplugin", **config: app_with(plugins=[(name, obj)], **config)


@pytest.fixture
def system_session(app):
    with app.extensions["guanxi"].system_session("test") as session:
        yield session


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` then ``counter.count`` (Indico-style N+1 guard)."""
    engine = app.extensions["guanxi"].engine

    @contextlib.contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def consumer_for():
    """``consumer_for(app, workers=2)`` starts a real Huey consumer on background threads (jobs run as in
    production, not inline); every consumer started is stopped after the test."""
    from core import jobs

    started = []

    def start(app, workers=2, **options):
        consumer = jobs.start_consumer(app, workers=workers, **options)
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop(graceful=True)


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on a free local port for this test, with ``app``'s ``MAIL_*`` settings
    pointing at it (plain SMTP, no login). ``smtp_server.messages``: every received message, parsed
    (``email.message.EmailMessage``); ``smtp_server.envelopes``: ``(mail_from, rcpt_tos)`` pairs;
    ``smtp_server.wait_for(count)``; ``smtp_server.configure(other_app)`` for apps made by ``app_with``."""
    from core.testing.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    saved = {key: app.config.get(key) for key in SmtpServer.CONFIG_KEYS}
    server.configure(app)
    try:
        yield server
    finally:
        app.config.update(saved)
        server.stop()
