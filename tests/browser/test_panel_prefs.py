"""A learner in the course iframe sets quiet hours and a time zone, asks why a message came,
and is told when a new one arrives, in headless Chromium, accessible at each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open
from tests.browser.test_panel_messages import _send_to_ada

pytestmark = pytest.mark.browser

WEEK_2 = {"name": "Week 2", "steps": [{"key": "tip", "offset_days": 0, "message": {
    "kind": "tip", "title": "Breathe before you answer", "body": "Count to three."}}]}  # fmt: skip


def test_a_learner_sets_quiet_hours_asks_why_and_is_told_of_news(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path],
) -> None:  # fmt: skip
    app, url = live_app
    _open(page, url, "demo-learner-1", "1")  # Ada launches once: now the tool knows her
    _send_to_ada(app)
    frame = _open(page, url, "demo-learner-1", "1")
    assert frame.locator("h2", has_text="Messages from your mentor").inner_text().endswith("2 new")

    frame.get_by_role("link", name="Your preferences").click()
    frame.locator("h1", has_text="Your preferences").wait_for()
    assert axe_violations(frame) == []
    frame.get_by_label("From").fill("22:00")
    frame.get_by_label("Until").fill("07:00")
    frame.get_by_label("Time zone").select_option("Europe/Paris")
    frame.get_by_role("button", name="Save my preferences").click()
    frame.get_by_text("Your preferences are saved.").wait_for()
    assert frame.get_by_label("From").input_value() == "22:00"
    assert frame.get_by_label("Time zone").input_value() == "Europe/Paris"
    assert axe_violations(frame) == []
    screenshot("preferences")

    frame.get_by_role("link", name="Back to your messages").click()
    frame.get_by_role("link", name="Why did I get this?").first.click()
    frame.locator("h1", has_text="Why did I get").wait_for()
    assert frame.get_by_text("Delivered to your mentor panel.").first.is_visible()
    assert frame.locator("time", has_text="(Europe/Paris)").count() >= 2
    assert axe_violations(frame) == []
    assert screenshot("why").stat().st_size > 0

    # While the panel is open, the mentor sends a tip: the page says so when it looks again.
    frame.get_by_role("link", name="Back to your messages").click()
    frame.locator("h2", has_text="Messages from your mentor").wait_for()
    assert frame.get_by_role("status").inner_text() == ""
    _send_to_ada(app, WEEK_2)
    frame.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    frame.get_by_role("link", name="Show them").click()
    frame.locator("h3", has_text="Breathe before you answer").wait_for()
    assert "1 new" in frame.locator("h2", has_text="Messages from your mentor").inner_text()
