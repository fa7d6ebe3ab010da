"""A mentor walks the console's roster, filters it and reads the results, inside the course
iframe of the embedded platform."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool import clock
from lti_tool.courses.models import Course, Enrollment, Role
from lti_tool.extensions import db
from lti_tool.lti.storage import storage
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    Message,
    MessageKind,
    Response,
    Sequence,
    Step,
)
from lti_tool.roster.services import run_sync
from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser


def test_a_mentor_filters_the_roster_and_reads_the_results(
    page: Any, live_app: tuple[Flask, str], screenshot: Any
) -> None:
    app, url = live_app
    frame = _open(page, url, "demo-mentor", "0")
    with app.app_context():  # the roster is read, as a worker would after the launch
        course_id = db.session.scalars(select(Course.id)).one()
        assert run_sync(db.session(), storage(), course_id, timeout=5)
        _one_answer(course_id)
    frame.get_by_role("link", name="Roster", exact=True).click()
    frame.wait_for_url("**/console/roster?**")
    frame.locator("h1", has_text="Roster").wait_for()
    assert "2 of 2 learners shown" in frame.inner_text("main")
    assert axe_violations(frame) == []
    frame.get_by_role("link", name="Not started (1)").click()
    frame.wait_for_url("**filter=not_started**")
    assert frame.locator('.filters a[aria-current="page"]').inner_text() == "Not started (1)"
    assert frame.locator("tbody tr").count() == 1
    assert axe_violations(frame) == []
    screenshot("roster")
    frame.get_by_role("link", name="Results", exact=True).click()
    frame.locator("h1", has_text="Results").wait_for()
    assert frame.locator("svg.bars").count() == 3  # answers, per week, hours
    assert "Have you applied it?" in frame.inner_text("main")
    assert axe_violations(frame) == []
    screenshot("results")


def _one_answer(course_id: int) -> None:
    """One of the course's learners was asked a question an hour ago and answered "yes"."""
    course = db.session.get_one(Course, course_id)
    learner = db.session.scalars(select(Enrollment.person_id).where(
        Enrollment.course_id == course_id, Enrollment.role == Role.LEARNER)).first()  # fmt: skip
    registration_id = course.deployment.registration_id
    choices = [{"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]
    question = Message(registration_id=registration_id, kind=MessageKind.QUESTION,
                       title="Have you applied it?", choices=choices)  # fmt: skip
    sequence = Sequence(registration_id=registration_id, course_id=course_id, name="Check-in")
    db.session.add_all([question, sequence])
    db.session.flush()
    step = Step(sequence_id=sequence.id, key="ask", message_id=question.id, offset_seconds=0)
    journey = Journey(sequence_id=sequence.id, course_id=course_id, person_id=learner)
    db.session.add_all([step, journey])
    db.session.flush()
    now = clock.now()
    delivery = Delivery(journey_id=journey.id, step_id=step.id, person_id=learner,
                        course_id=course_id, message_id=question.id,
                        status=DeliveryStatus.DELIVERED, due_at=now, delivered_at=now)  # fmt: skip
    db.session.add(delivery)
    db.session.flush()
    db.session.add(Response(delivery_id=delivery.id, answer="yes", via="panel", answered_at=now))
    db.session.commit()
