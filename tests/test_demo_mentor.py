"""The demo's mentor: after ``demo seed``, a learner launching from the embedded platform sees
Maya Okafor in their panel, and messages are signed with her name."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Person
from lti_tool.devplatform.mentor import TITLE
from lti_tool.mentoring import dispatch, plans
from lti_tool.mentoring.broadcast import broadcast
from lti_tool.mentors.models import MentorProfile
from lti_tool.models import Course
from tests.helpers import embedded

platform_client = embedded.platform_client  # the fixture, for the tests here
NO_MENTOR = "You don't have a mentor in this course yet"


def _panel(client: FlaskClient, user: str) -> str:
    """Open the course page as ``user`` and follow its iframe through login and launch."""
    page = client.get("/dev-platform/course", query_string={
        "course": "demo-course-1", "user": user, "storage": "0"})  # fmt: skip
    src = html.unescape(page.get_data(as_text=True).split('src="')[1].split('"')[0])
    auth = client.get(client.get(src).headers["Location"]).get_data(as_text=True)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', auth)
    landed = client.post("/lti/launch", data={k: html.unescape(v) for k, v in fields})
    assert landed.status_code == 303, landed.get_data(as_text=True)
    return client.get(landed.headers["Location"]).get_data(as_text=True)


def _seed(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "seed", "--base-url", "http://localhost"])
    assert result.exit_code == 0, result.output
    assert "Maya Okafor mentors its courses." in result.output


def test_after_the_seed_the_learners_panel_names_maya(
    runner: FlaskCliRunner, platform_client: FlaskClient, db: SQLAlchemy,
    frozen_clock: FixedClock,
) -> None:  # fmt: skip
    _seed(runner)
    panel = _panel(platform_client, "demo-learner-1")
    assert "Maya Okafor" in panel
    assert TITLE in panel
    assert NO_MENTOR not in panel
    # A message saying {mentor} is signed with her name.
    ada = db.session.scalars(select(Person).where(Person.subject == "demo-learner-1")).one()
    course = db.session.scalars(select(Course).where(Course.context_id == "demo-course-1")).one()
    sequence, _rules = plans.store(db.session(), ada.registration_id, {"name": "Hello", "steps": [
        {"key": "hi", "offset_seconds": 0, "message": {
            "kind": "welcome", "title": "Hello", "body": "I am {mentor}, your mentor here."}}]},
        course.id)  # fmt: skip
    broadcast(db.session(), course.id, sequence.id)
    db.session.commit()
    dispatch.dispatch_due(db.session())  # at 09:00 UTC (the frozen clock): not quiet hours
    panel = _panel(platform_client, "demo-learner-1")
    assert "I am Maya Okafor, your mentor here." in panel


def test_without_the_seed_nobody_mentors_the_learner(platform_client: FlaskClient) -> None:
    assert NO_MENTOR in _panel(platform_client, "demo-learner-1")


def test_seeding_again_keeps_the_profile_maya_edited(
    runner: FlaskCliRunner, db: SQLAlchemy
) -> None:
    _seed(runner)
    profile = db.session.scalars(select(MentorProfile)).one()
    profile.title = "Head of training"
    db.session.commit()
    _seed(runner)
    assert db.session.scalars(select(MentorProfile.title)).all() == ["Head of training"]
    assert len(db.session.scalars(select(Course)).all()) == 2
