"""The harness itself: the pages really run under the app's CSP, and the console watch really catches what
every journey relies on it to catch (an inline script the CSP refused — Chromium 156 words it "Executing
inline script violates the following Content Security Policy directive", older ones "Refused to execute
inline script" —, an uncaught error)."""
from __future__ import annotations

import pytest

from e2e_helpers import url

pytestmark = pytest.mark.e2e


def test_console_watch_catches_a_refused_inline_script(browse):
    from playwright.sync_api import expect

    page = browse()
    response = page.goto(url(page, "/login"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#login")).to_be_visible()
    watch = page.console_watch
    with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
        page.evaluate("""() => {
            const inline = document.createElement("script");
            inline.textContent = "window.inlineRan = true;";
            document.body.appendChild(inline);
        }""")
    assert page.evaluate("() => window.inlineRan") is None  # the CSP refused it
    with page.expect_event("pageerror"):
        page.evaluate("() => { setTimeout(() => { throw new Error('e2e harness probe'); }, 0); }")
    assert any("Content Security Policy" in error for error in watch.errors), watch.errors
    assert any("e2e harness probe" in error for error in watch.errors), watch.errors
    watch.errors.clear()  # seen and expected: the rest of the page is clean
