"""The Content-Security-Policy in Chromium: every flow runs with it and breaks none of it.

Each violation the browser reports (its own console message, and a ``securitypolicyviolation``
event in any frame) is collected while a learner launches into the panel, a mentor walks the
console and an instructor adds the tool by deep linking; none may occur.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open
from tests.browser.test_panel_messages import PLAN, _send_to_ada

pytestmark = pytest.mark.browser

#: Reports every violation in every frame to the console, where the test collects it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI}` +
                ` in ${event.documentURI}`);
});
"""
VIDEO = {"key": "video", "offset_days": 0, "message": {
    "kind": "resource", "title": "Watch: listening in practice", "body": "8 minutes.",
    "details": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "type": "video"}},
}  # fmt: skip
PLAYER = "<!doctype html><html lang='en'><title>Player</title><p>A video player</p></html>"


@pytest.fixture
def violations(page: Any) -> list[str]:
    """The violations the tab reports while the test runs (a stand-in plays the videos)."""
    found: list[str] = []

    def collect(message: Any) -> None:
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            found.append(message.text)

    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", collect)
    page.route(
        "https://www.youtube-nocookie.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=PLAYER),
    )
    return found


def test_a_learner_launches_answers_and_watches_without_violations(
    page: Any, live_app: tuple[Flask, str], violations: list[str],
    screenshot: Callable[[str], Path],
) -> None:  # fmt: skip
    app, url = live_app
    _open(page, url, "demo-learner-1", "1")  # postMessage storage: lti-storage.js runs
    _send_to_ada(app, {**PLAN, "steps": [*PLAN["steps"], VIDEO]})
    frame = _open(page, url, "demo-learner-1", "0")  # the state cookie and form-post.js
    player = frame.frame_locator("iframe[title='Watch: listening in practice']")
    player.get_by_text("A video player").wait_for()  # frame-src lets the player in
    frame.get_by_label("4 · Agree").check()
    frame.get_by_role("button", name="Send my answers").click()  # form-action: the tool
    frame.get_by_text("Thank you for your answers.").wait_for()
    frame.get_by_role("link", name="Preferences").first.click()
    frame.wait_for_url("**/panel/preferences?**")
    assert axe_violations(frame) == []
    screenshot("panel")
    assert violations == []


def test_a_mentor_walks_the_console_without_violations(
    page: Any, live_server: str, violations: list[str]
) -> None:
    frame = _open(page, live_server, "demo-mentor", "0")
    links = frame.locator("nav.console-nav a")
    paths = [str(path) for path in links.evaluate_all("links => links.map(a => a.pathname)")]
    assert len(paths) >= 5
    for path in paths:
        links.and_(frame.locator(f"[href^='{path}?']")).click()
        frame.locator(f"nav.console-nav a[aria-current='page'][href^='{path}?']").wait_for()
    assert violations == []


def test_an_instructor_adds_the_tool_by_deep_linking_without_violations(
    page: Any, live_server: str, violations: list[str]
) -> None:
    page.goto(f"{live_server}/dev-platform/course?course=demo-course-1&user=demo-mentor"
              "&storage=1&deep_link=1")  # fmt: skip
    frame = page.frame_locator("iframe[title='Virtual Mentor']")
    frame.get_by_label("Mentor panel for this course").check()
    frame.get_by_role("button", name="Add to the course").click()
    # form-post.js posts the signed answer to the platform: form-action names its return page
    frame.locator("h1", has_text="Added to the course").wait_for()
    assert violations == []


def test_a_platform_registers_the_tool_without_violations(
    page: Any, live_server: str, violations: list[str]
) -> None:
    page.goto(f"{live_server}/dev-platform/install")
    frame = page.frame_locator("iframe[title='Virtual Mentor registration']")
    frame.get_by_role("heading", name="Virtual Mentor is registered").wait_for()
    assert violations == []


def test_an_inline_script_is_blocked_and_reported(
    page: Any, live_server: str, violations: list[str]
) -> None:
    """Guards the guard: a script a page did not send with its nonce never runs."""
    frame = _open(page, live_server, "demo-learner-1", "1")
    frame.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "document.body.dataset.injected = 'ran'";
      document.body.append(script);
    }""")
    page.wait_for_timeout(200)
    assert frame.evaluate("document.body.dataset.injected") is None
    assert any("script-src" in violation for violation in violations), violations
