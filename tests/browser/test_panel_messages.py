"""A learner in the course iframe answers a survey, RSVPs to a session and opens the
calendar file, in headless Chromium, with the panel accessible at each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Course, Enrollment, Person
from lti_tool.extensions import db
from lti_tool.mentoring import dispatch, journeys, plans
from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser

PLAN = {"name": "Week 1", "steps": [
    {"key": "survey", "offset_days": 0, "message": {
        "kind": "survey", "title": "How was week 1?", "details": {"items": [
            {"key": "useful", "kind": "likert", "prompt": "Week 1 was useful"},
            {"key": "more", "kind": "text", "prompt": "Anything else?"}]}}},
    {"key": "visit", "offset_days": 0, "message": {
        "kind": "session", "title": "Office hours", "details": {
            "starts_at": "2030-01-15T14:00", "time_zone": "Europe/Paris",
            "format": "office_hours", "place": "Room 4", "capacity": 5}}},
]}  # fmt: skip


def _send_to_ada(app: Flask, plan: dict[str, Any] | None = None) -> None:
    """Start a plan (``PLAN`` by default) for the demo learner Ada and deliver what is due."""
    with app.app_context():
        ada, course_id = db.session.execute(
            select(Person, Enrollment.course_id).join(Enrollment, Enrollment.person_id == Person.id)
            .where(Person.given_name == "Ada")
        ).one()  # fmt: skip
        course = db.session.get_one(Course, course_id)
        sequence, _rules = plans.store(db.session(), ada.registration_id, plan or PLAN)
        journeys.start(db.session(), [journeys.Start(sequence.id, course.id, ada.id, "test")])
        db.session.commit()
        dispatch.dispatch_due(db.session())
        db.session.remove()


def test_a_learner_answers_a_survey_and_rsvps_in_the_iframe(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path]
) -> None:
    app, url = live_app
    _open(page, url, "demo-learner-1", "1")  # Ada launches once: now the tool knows her
    _send_to_ada(app)
    frame = _open(page, url, "demo-learner-1", "1")
    assert frame.locator("legend", has_text="Week 1 was useful").is_visible()
    assert axe_violations(frame) == []
    screenshot("unanswered")

    frame.get_by_label("4 · Agree").check()
    frame.get_by_label("Anything else? (optional)").fill("More examples, please.")
    frame.get_by_role("button", name="Send my answers").click()
    frame.get_by_text("Thank you for your answers.").wait_for()
    assert frame.locator("dd", has_text="Agree").count() == 1

    frame.get_by_role("button", name="I'll be there").click()
    frame.get_by_text("Your answer: I'll be there").wait_for()
    assert frame.get_by_text("4 of 5 left").is_visible()
    with page.expect_download() as download:
        frame.get_by_role("link", name="Add to my calendar (.ics)").click()
    assert download.value.suggested_filename.endswith(".ics")
    assert axe_violations(frame) == []
    assert screenshot("answered").stat().st_size > 0
