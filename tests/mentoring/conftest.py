"""A Moodle tenant with a learner and a follow-up plan on topic "Active listening"."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Role
from lti_tool.events.handoff import hand_off
from lti_tool.lti import tokens
from lti_tool.mentoring import dispatch, feed, plans, rules
from lti_tool.mentoring.models import Delivery, TriggerRule
from lti_tool.topics.services import add_topic
from tests.factories import (
    CourseFactory,
    DeploymentFactory,
    EnrollmentFactory,
    PersonFactory,
    RegistrationFactory,
)
from xapi import credentials

MOODLE = "https://moodle.example.org"
QUIZ = f"{MOODLE}/mod/quiz/view.php?id=17"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
FIXTURE = Path(__file__).parents[1] / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
#: When the fixture's statement happened.
HAPPENED = datetime(2026, 11, 20, 9, 41, 12, tzinfo=UTC)
CHOICES = [
    {"key": "yes", "label": "Yes"},
    {"key": "not_yet", "label": "Not yet"},
    {"key": "help", "label": "I need help"},
]


def plan(**changes: Any) -> dict[str, Any]:
    """Welcome now, a tip at +1 day, "Have you applied it?" at +7 days, a resource on "not yet"."""
    return {
        "name": "Active listening follow-up",
        "steps": [
            {"key": "welcome", "offset_days": 0, "message": {
                "kind": "welcome", "title": "Welcome, {first_name}",
                "body": "I am {mentor}, your mentor for **{topic}**."}},
            {"key": "tip", "offset_days": 1, "message": {
                "kind": "tip", "title": "A tip on {topic}", "body": "Listen first."}},
            {"key": "ask", "offset_days": 7, "message": {
                "kind": "question", "title": "Have you applied {topic}?", "choices": CHOICES},
             "branches": {
                "yes": [{"do": "stop"}],
                "not_yet": [{"do": "send", "step": "resource"}, {"do": "repeat", "after_days": 7}],
                "help": [{"do": "escalate"}]}},
            {"key": "resource", "message": {
                "kind": "resource", "title": "Watch: listening in practice", "body": "8 minutes.",
                "details": {"url": "https://video.example.org/listening", "type": "video"}}},
        ],
        "rules": [{"kind": "event", "verb": COMPLETED, "completion": True}],
        **changes,
    }  # fmt: skip


@dataclass
class Tenant:
    """A Moodle platform, course 2, learner Ana (sub 3), the topic and the statement source."""

    registration_id: int
    course_id: int
    person_id: int
    topic_id: int
    headers: dict[str, str]
    clock: FixedClock
    #: Ana's launch token (her panel).
    launch_token: str

    def post(self, client: FlaskClient, statement: dict[str, Any] | None = None) -> Any:
        """Post the Moodle statement (or another) to /xapi/statements."""
        body = statement or json.loads(FIXTURE.read_text())
        return client.post("/xapi/statements", json=body, headers=self.headers)

    def add_plan(self, db: SQLAlchemy, switch_on: bool = True, **changes: Any) -> TriggerRule:
        """Store the plan on the topic; its rule switched on now."""
        _sequence, found = plans.store(db.session(), self.registration_id,
                                       plan(topic=self.topic_id, **changes))  # fmt: skip
        for rule in found if switch_on else []:
            rules.switch(db.session(), rule.id, True)
        db.session.commit()
        return found[0]

    def feed_titles(self, db: SQLAlchemy) -> list[str]:
        """What Ana's panel shows, newest first."""
        return [i.title for i in feed.feed(db.session(), self.course_id, self.person_id)]

    def later(self, db: SQLAlchemy, **delta: float) -> int:
        """Move the clock, hand off what waits and dispatch what is due; how many delivered."""
        self.clock.advance(timedelta(**delta))
        hand_off(db.session())
        return dispatch.dispatch_due(db.session())

    def deliveries(self, db: SQLAlchemy) -> list[Delivery]:
        """Every delivery of Ana's, in due order."""
        return list(db.session.scalars(
            select(Delivery).where(Delivery.person_id == self.person_id)
            .order_by(Delivery.due_at, Delivery.id)
            .execution_options(populate_existing=True)
        ))  # fmt: skip


@pytest.fixture
def tenant(
    db: SQLAlchemy, frozen_clock: FixedClock, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> Tenant:
    """The Moodle tenant, with the clock the day before the statement happened (UTC, 08:00)."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    frozen_clock.at = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    registration = RegistrationFactory(issuer=MOODLE, product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3", given_name="Ana", time_zone="UTC")
    EnrollmentFactory(course=course, person=ana)
    db.session.commit()
    topic = add_topic(db.session(), registration.id, "Active listening", activities=[QUIZ])
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Moodle logstore")
    auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    token = tokens.issue(
        tokens.LaunchContext(registration.id, course.deployment_id, course.id, ana.id,
                             Role.LEARNER), app.config["SECRET_KEY"],
    )  # fmt: skip
    return Tenant(registration.id, course.id, ana.id, topic.id, headers, frozen_clock, token)
