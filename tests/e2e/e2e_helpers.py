"""Steps the journeys share: log in through the form, switch language, expect a 404, watch the console.

Playwright is imported inside the functions, so a missing install fails the e2e tests with a clear message
(the ``chromium`` fixture) instead of breaking the collection of the whole suite.
"""
from __future__ import annotations

import re

from core.testing import TEST_PASSWORD, login_client

NOT_FOUND_CONSOLE = "the server responded with a status of 404"
LANGUAGE_BUTTONS = {"en": "English", "zh_CN": "简体中文"}


class ConsoleWatch:
    """Console errors and uncaught exceptions of every page of one test."""

    def __init__(self):
        self.errors: list[str] = []
        self.expected_404: set[str] = set()

    def attach(self, page):
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))

    def _console(self, page, msg):
        if msg.type != "error":
            return
        resource = (msg.location or {}).get("url", "")
        if NOT_FOUND_CONSOLE in msg.text and (resource in self.expected_404
                                              or resource.endswith("/favicon.ico")):
            # a 404 the test asked for (see ``expect_not_found``), or Chromium's own guess at a favicon
            # (base.html declares none)
            return
        self.errors.append(f"{page.url}: {msg.text} [{resource}]")


def url(page, path: str) -> str:
    return page.guanxi_base + path


def login(page, user, password=TEST_PASSWORD):
    """Log ``user`` in through the real login form and wait for the page behind it."""
    from playwright.sync_api import expect

    page.goto(url(page, "/login"))
    page.locator("#login").fill(user.login)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("nav.navbar")).to_contain_text(user.name)
    assert "/login" not in page.url, f"still on the login page after logging in as {user.login}"


def start_session(page, app, user):
    """Give the page's browser a session of ``user`` the way a login does (a ``user_session`` row and the
    signed cookie naming its token), without the form: for the extra people a journey shows the result to
    (the team's manager, another team's salesperson). The journey's own salesperson uses ``login``."""
    from playwright.sync_api import expect

    client = login_client(app, user)  # core.testing: the same server-side session a login creates
    with client.session_transaction() as flask_session:
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie,
                               "url": page.guanxi_base, "httpOnly": True, "sameSite": "Lax"}])
    page.goto(url(page, "/"))
    expect(page.locator("nav.navbar")).to_contain_text(user.name)


def switch_language(page, code: str):
    """Press the footer's language button; the page comes back in that language."""
    from playwright.sync_api import expect

    page.locator("footer").get_by_role("button", name=LANGUAGE_BUTTONS[code], exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", code.replace("_", "-"))


def expect_not_found(page, path: str):
    """Open ``path`` and check that the app answers 404 (the console error for that URL is expected)."""
    from playwright.sync_api import expect

    target = url(page, path)
    page.console_watch.expected_404.add(target)
    response = page.goto(target)
    assert response is not None, f"{path}: no response"
    assert response.status == 404, f"{path} answered {response.status}, expected 404"
    expect(page.locator("main")).to_be_visible()


def record_id(page) -> int:
    """The id in a detail page's URL (``/r/<entity>/<id>`` or a plugin's ``/<prefix>/<id>``)."""
    tail = page.url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    assert tail.isdigit(), f"not a detail page: {page.url}"
    return int(tail)


def menu(page, label: str):
    """Click the navbar entry whose text is exactly ``label`` (its icon glyph is not part of the text)."""
    page.locator("nav.navbar a.nav-link", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).click()


def button_link(page, label: str):
    """A link styled as a button in the page body, by its exact text (icons aside)."""
    return page.locator("main a.btn", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
