"""A mentor in the course iframe schedules a session for everyone with the form and finds it
on the sessions page, in headless Chromium, each page accessible."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool import clock
from lti_tool.courses.models import Course
from lti_tool.extensions import db
from lti_tool.lti.storage import storage
from lti_tool.roster.services import run_sync
from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser


def test_a_mentor_schedules_a_session_for_everyone(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path]
) -> None:
    app, url = live_app
    frame = _open(page, url, "demo-mentor", "0")
    with app.app_context():  # the roster is read, as a worker would after the launch
        course_id = db.session.scalars(select(Course.id)).one()
        assert run_sync(db.session(), storage(), course_id, timeout=5)
        day = (clock.now() + timedelta(days=14)).date()
    frame.get_by_role("link", name="Sessions", exact=True).click()
    frame.locator("h1", has_text="Sessions").wait_for()
    frame.get_by_role("link", name="Schedule a session").click()
    frame.locator("h1", has_text="Schedule a session").wait_for()
    assert axe_violations(frame) == []

    frame.get_by_label("Title").fill("Office hours: week 3")
    frame.get_by_label("Description (markdown)").fill("Bring **one** question.")
    frame.get_by_label("Format").select_option(label="Office hours")
    frame.get_by_label("Date").fill(day.isoformat())
    frame.get_by_label("Start time").fill("14:00")
    frame.get_by_label("Duration in minutes").fill("45")
    frame.get_by_label("Time zone").select_option("Europe/Paris")
    frame.get_by_label("Link to join (https://…)").fill("https://meet.example.org/w3")
    frame.get_by_label("Places (optional").fill("12")
    frame.get_by_label("Every active learner of the course").check()
    screenshot("form")
    frame.get_by_role("button", name="Schedule and invite").click()

    frame.locator("h2", has_text="Office hours: week 3").wait_for()
    main = frame.inner_text("main")
    assert f"{day:%A} {day.day} {day:%B %Y}, 14:00\u201314:45 (Europe/Paris)" in main
    assert "0 of 12 places taken" in main
    assert frame.get_by_role("button", name="Remind those going").count() == 1
    assert axe_violations(frame) == []
    assert screenshot("listed").stat().st_size > 0
