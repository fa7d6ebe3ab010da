"""Statements become learning events: the learner and course resolved within the tenant,
what cannot be resolved kept, and nothing counted twice."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.events import tasks
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.lti.models import PlatformRegistration
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from xapi import credentials

FIXTURES = Path(__file__).parent / "fixtures"
MOODLE = "https://moodle.example.org"


def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


@pytest.fixture
def moodle(db: SQLAlchemy) -> dict[str, Any]:
    """A Moodle registration with course 2 and the learner whose Moodle user id is 3."""
    registration = RegistrationFactory(issuer=MOODLE)
    deployment = DeploymentFactory(registration=registration)
    course = CourseFactory(deployment=deployment, context_id="2")
    ana = PersonFactory(registration=registration, subject="3", email="ana@example.org")
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Moodle logstore")
    auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    return {"headers": {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"},
            "registration": registration.id, "course": course.id, "ana": ana.id}  # fmt: skip


def _events(db: SQLAlchemy) -> list[LearningEvent]:
    return list(db.session.scalars(select(LearningEvent).order_by(LearningEvent.id)))


def test_a_moodle_module_completion_is_ana_passing_the_quiz_in_course_2(
    client: FlaskClient, moodle: dict[str, Any], db: SQLAlchemy
) -> None:
    statement = _fixture("moodle5_module_completed_passed")
    response = client.post("/xapi/statements", json=statement, headers=moodle["headers"])
    assert response.status_code == 200, response.json
    [event] = _events(db)
    assert (event.person_id, event.course_id) == (moodle["ana"], moodle["course"])
    assert event.registration_id == moodle["registration"]
    assert event.verb == "http://adlnet.gov/expapi/verbs/completed"
    assert event.activity_id == f"{MOODLE}/mod/quiz/view.php?id=17"
    assert event.activity_name == "Active listening check"
    assert (event.completion, event.success, event.source) == (True, True, EventSource.XAPI)
    assert event.occurred_at.isoformat() == "2026-11-20T09:41:12+00:00"


def test_a_course_completion_names_the_course_as_its_object(
    client: FlaskClient, moodle: dict[str, Any], db: SQLAlchemy
) -> None:
    for name in ("moodle5_course_completed", "moodle4_course_completed"):
        response = client.post("/xapi/statements", json=_fixture(name), headers=moodle["headers"])
        assert response.status_code == 200, response.json
    ana, ben = _events(db)
    assert (ana.person_id, ana.course_id) == (moodle["ana"], moodle["course"])
    # Ben (Moodle user 4) has not launched yet: kept with the account the source used.
    assert (ben.person_id, ben.course_id) == (None, moodle["course"])
    assert ben.actor["account"] == {"homePage": MOODLE, "name": "4"}


def test_a_learner_is_found_by_email_and_a_score_is_kept(
    client: FlaskClient, moodle: dict[str, Any], db: SQLAlchemy
) -> None:
    statement = _fixture("cmi5_passed")
    statement["actor"] = {"objectType": "Agent", "mbox": "mailto:Ana@Example.org"}
    response = client.post("/xapi/statements", json=statement, headers=moodle["headers"])
    assert response.status_code == 200, response.json
    [event] = _events(db)
    assert event.person_id == moodle["ana"]
    assert event.course_id is None  # the cmi5 course is not an LMS course of ours
    assert (event.success, event.score_scaled) == (True, 0.85)


def test_another_sites_account_with_the_same_number_is_not_our_learner(
    client: FlaskClient, moodle: dict[str, Any], db: SQLAlchemy
) -> None:
    statement = _fixture("moodle5_module_completed_passed")
    statement["actor"]["account"]["homePage"] = "https://other-moodle.example.net"
    assert (
        client.post("/xapi/statements", json=statement, headers=moodle["headers"]).status_code
        == 200
    )
    [event] = _events(db)
    assert event.person_id is None


def test_a_statement_sent_again_is_one_event(
    client: FlaskClient, moodle: dict[str, Any], db: SQLAlchemy
) -> None:
    statement = _fixture("moodle5_module_completed_passed")
    for _ in range(2):
        client.post("/xapi/statements", json=copy.deepcopy(statement), headers=moodle["headers"])
    assert len(_events(db)) == 1


def test_a_learner_unknown_then_is_resolved_once_they_appear(
    app: Flask, client: FlaskClient, moodle: dict[str, Any], db: SQLAlchemy
) -> None:
    response = client.post(
        "/xapi/statements", json=_fixture("moodle4_course_completed"), headers=moodle["headers"]
    )
    assert response.status_code == 200
    assert _events(db)[0].person_id is None  # Ben (Moodle user 4) has not launched yet
    grade = LearningEvent(
        idempotency_key="ags:x", registration_id=moodle["registration"],
        course_id=moodle["course"], actor={"lti_user_id": "4", "registration_id": 1},
        verb="http://adlnet.gov/expapi/verbs/scored", activity_id="https://lms/li/1",
        occurred_at=datetime(2026, 11, 24, tzinfo=UTC), source=EventSource.AGS,
    )  # fmt: skip
    other = RegistrationFactory()
    PersonFactory(registration=other, subject="4")  # another platform's user 4: not him
    db.session.add(grade)
    db.session.commit()
    task = app.extensions["celery"].tasks[tasks.resolve_unresolved_actors.name]
    assert task.apply().get() == 0
    registration = db.session.get(PlatformRegistration, moodle["registration"])
    ben = PersonFactory(registration=registration, subject="4")  # he launches
    db.session.commit()
    assert task.apply().get() == 2  # beat runs it every minute
    db.session.expire_all()
    assert [e.person_id for e in _events(db)] == [ben.id, ben.id]
