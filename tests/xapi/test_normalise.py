"""Statements become learning events: the learner and course resolved within the tenant,
what cannot be resolved kept, and nothing counted twice."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.events.models import EventSource, LearningEvent
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
