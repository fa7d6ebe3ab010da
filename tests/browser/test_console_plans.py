"""A mentor in the course iframe creates a two-step plan with the form, previews it, dry-runs
its rule and switches it on, in headless Chromium, with each page accessible."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser


def _step(frame: Any, number: int, key: str, days: str, kind: str, title: str) -> Any:
    """Fill in a step row of the plan editor; the row (its fieldset)."""
    row = frame.get_by_role("group", name=f"Step {number}", exact=True)
    row.get_by_label("Key", exact=True).fill(key)
    row.get_by_label("Offset in days").fill(days)
    row.get_by_label("Kind", exact=True).select_option(kind)
    row.get_by_label("Title", exact=True).fill(title)
    return row


def test_a_mentor_creates_previews_dry_runs_and_switches_on_a_plan(
    page: Any, live_server: str, screenshot: Callable[[str], Path]
) -> None:
    frame = _open(page, live_server, "demo-mentor", "0")
    frame.get_by_role("link", name="Follow-up plans").click()
    frame.locator("h1", has_text="Follow-up plans").wait_for()
    assert axe_violations(frame) == []
    frame.get_by_role("link", name="Create a plan").click()
    frame.locator("h1", has_text="Create a plan").wait_for()
    assert axe_violations(frame) == []

    frame.get_by_label("Plan name").fill("Week 1 follow-up")
    step_1 = _step(frame, 1, "welcome", "0", "welcome", "Welcome, {first_name}")
    step_1.get_by_label("Body (markdown)").fill("I am **{mentor}**. <script>alert(1)</script>")
    step_2 = _step(frame, 2, "ask", "7", "question", "Have you tried it?")
    step_2.get_by_label("Answers, for a question").fill("yes: Yes\nnot_yet: Not yet")
    frame.get_by_label("when a learning event matches").check()
    frame.get_by_label("Verb").select_option(label="completed")
    frame.get_by_label("Completion required").check()
    frame.get_by_role("button", name="Create the plan", exact=True).click()

    frame.locator("h2", has_text="Week 1 follow-up").wait_for()
    assert frame.get_by_role("cell", name="Have you tried it?", exact=True).is_visible()
    assert axe_violations(frame) == []
    frame.get_by_role("link", name="Preview “Week 1 follow-up” as a learner").click()
    frame.locator("h2", has_text="Welcome, Ana").wait_for()
    assert frame.get_by_text("I am Maya Okafor. <script>alert(1)</script>").is_visible()
    assert frame.get_by_role("button", name="Not yet").is_disabled()
    assert axe_violations(frame) == []
    screenshot("preview")

    frame.get_by_role("link", name="Follow-up plans").click()
    frame.get_by_role("link", name="Dry run").first.click()
    frame.locator("h1", has_text="Dry run").wait_for()
    assert frame.get_by_text("Nobody in this course would get anything.").is_visible()
    assert axe_violations(frame) == []

    frame.get_by_role("link", name="Follow-up plans").click()
    frame.get_by_role("button", name="Switch on").first.click()
    frame.get_by_role("button", name="Switch off").first.wait_for()
    assert frame.locator(".state-on").first.inner_text() == "On"
    assert axe_violations(frame) == []
    assert screenshot("switched-on").stat().st_size > 0
