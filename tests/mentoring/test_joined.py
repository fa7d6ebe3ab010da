"""A learner joining a course (first launch, or a roster listing them) is one learning event,
and a "joined" rule welcomes them from it, even before they ever open the tool."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Person
from lti_tool.events.handoff import hand_off
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.events.services import JOINED
from lti_tool.mentoring import dispatch, feed, plans, rules
from lti_tool.roster.client import Member
from lti_tool.roster.services import apply_page
from tests.factories import CourseFactory, DeploymentFactory, RegistrationFactory
from tests.helpers.platform import INSTRUCTOR, LEARNER

WELCOME = {
    "name": "Welcome",
    "steps": [{"key": "welcome", "offset_days": 0, "message": {
        "kind": "welcome", "title": "Welcome, {first_name}", "body": "I am here to help."}}],
    "rules": [{"kind": "joined"}],
}  # fmt: skip


def joined_events(db: SQLAlchemy) -> list[tuple[int | None, int | None, str]]:
    rows = db.session.execute(
        select(LearningEvent.course_id, LearningEvent.person_id, LearningEvent.activity_name)
        .where(LearningEvent.verb == JOINED, LearningEvent.source == EventSource.LTI)
        .order_by(LearningEvent.id)
    ).all()
    return [tuple(row) for row in rows]


def test_a_roster_listing_joins_new_learners_once_and_a_joined_rule_welcomes_them(
    app: Flask, db: SQLAlchemy, frozen_clock: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    registration = RegistrationFactory()
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    db.session.commit()
    _sequence, [rule] = plans.store(db.session(), registration.id, WELCOME)
    rules.switch(db.session(), rule.id, True)
    db.session.commit()
    members = [
        Member("bea", (LEARNER,), "Active", {"given_name": "Bea", "email": "bea@example.edu"}),
        Member("cy", (INSTRUCTOR,), "Active", {"given_name": "Cy"}),
        Member("dee", (LEARNER,), "Inactive", {"given_name": "Dee"}),
    ]
    apply_page(db.session(), course.id, registration.id, members)
    db.session.commit()
    apply_page(db.session(), course.id, registration.id, members)  # a resync joins no one
    db.session.commit()
    bea = db.session.scalars(select(Person).where(Person.subject == "bea")).one()
    assert [(c, p) for c, p, _ in joined_events(db)] == [(course.id, bea.id)]
    hand_off(db.session())
    dispatch.dispatch_due(db.session())
    # Bea has never opened the tool, and her welcome is waiting in her panel.
    assert bea.last_launch_at is None
    titles = [item.title for item in feed.feed(db.session(), course.id, bea.id)]
    assert titles == ["Welcome, Bea"]
