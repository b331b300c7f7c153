"""End-to-end fixtures: the test app served over real HTTP, driven by Debian's Chromium through Playwright.

* ``live_server``: the session's test app (``app`` from ``core.testing``: every installed module, the
  database selected by ``GUANXI_TEST_DATABASE_URL``), wiped before each test like ``app``, answered by a
  werkzeug server in a background thread on a free loopback port (``live_server.url``). Request threads and
  the test share the app's engine: its pool hands each thread its own connection (SQLite is opened with
  ``check_same_thread=False``, WAL and a busy timeout by ``core.db.make_engine``).
* ``browse(user=None, via_form=True)``: a new page in its own browser context (own cookies), logged in as
  ``user`` through the real login form (``via_form=False``: handed a session cookie, for the onlookers of a
  journey, which saves an Argon2 verification and two page loads each). After the test every page's console is checked: any error — a script the CSP refused,
  a failed resource, an uncaught exception — fails the test, and so does any exception raised in the app.
* Chromium missing or unable to start FAILS the tests with the reason (CI installs it), never skips them.
"""
from __future__ import annotations

import os
import socket
import threading

import pytest
from flask import got_request_exception
from werkzeug.serving import WSGIRequestHandler, make_server

from e2e_helpers import ConsoleWatch, login, start_session

CHROMIUM = os.environ.get("GUANXI_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run"]
# Generous for a loaded 2-core CI machine, short enough that a missing element fails in seconds, not minutes.
TIMEOUT_MS = 15_000
# A laptop screen: the navbar is expanded (Bootstrap lg) and the board's six stock columns fit without
# horizontal scrolling, which drag_to handles badly.
VIEWPORT = {"width": 1366, "height": 900}


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: end-to-end journey in a real Chromium (tests/e2e)")


# ------------------------------------------------------------------ live server

class _QuietHandler(WSGIRequestHandler):
    """No line per request in the test output; errors are still logged."""

    def log_request(self, *args, **kwargs):
        pass


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """The app on http://127.0.0.1:<port>, one thread per request, and the exceptions it raised."""

    def __init__(self, app):
        self.app = app
        self.port = _free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.errors: list[str] = []
        self._server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="guanxi-e2e-server",
                                        daemon=True)

    def _record_exception(self, _sender, exception, **_extra):
        from flask import request
        self.errors.append(f"{request.method} {request.full_path}: {exception!r}")

    def start(self):
        got_request_exception.connect(self._record_exception, self.app)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        got_request_exception.disconnect(self._record_exception, self.app)


@pytest.fixture(scope="session")
def _live_server(_guanxi_session_app):
    server = LiveServer(_guanxi_session_app)
    server.start()
    yield server
    server.stop()  # before the session app disposes of its engine


@pytest.fixture
def live_server(app, _live_server):
    """The running server of this test's freshly wiped app."""
    _live_server.errors.clear()
    return _live_server


# ------------------------------------------------------------------ browser

@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless. Not there or not starting = a failure that says why."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright is not installed ({exc}); run `pip install -e '.[test]'`", pytrace=False)
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package (`apt-get install chromium "
                    f"fonts-noto-cjk`, as .ci/run does) or point GUANXI_E2E_CHROMIUM at it", pytrace=False)
    driver = sync_playwright().start()
    try:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
    except Error as exc:
        driver.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
    yield browser
    browser.close()
    driver.stop()


@pytest.fixture
def browse(chromium, live_server):
    """``browse(user=None, via_form=True) -> Page``: a fresh browser context, logged in as ``user``."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    watch = ConsoleWatch()
    contexts = []

    def open_page(user=None, via_form=True):
        context = chromium.new_context(base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai",
                                       viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.guanxi_base = live_server.url
        page.console_watch = watch
        watch.attach(page)
        if user is not None and via_form:
            login(page, user)
        elif user is not None:
            start_session(page, live_server.app, user)
        return page

    yield open_page
    for context in contexts:
        context.close()
    problems = [f"browser: {e}" for e in watch.errors] + [f"server: {e}" for e in live_server.errors]
    if problems:
        pytest.fail("errors during the journey:\n" + "\n".join(problems), pytrace=False)
