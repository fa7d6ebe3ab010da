"""Statements about what learners do in the tool: valid xAPI under both versions, the same id
for the same happening, and the learner and course named so an LRS and our own normaliser
know them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.events.models import LearningEvent
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from xapi import builders
from xapi.builders import Rsvp, Scene
from xapi.credentials import Caller
from xapi.statements import store
from xapi.validation import SUPPORTED_VERSIONS, validate_statement

TOOL = "https://mentor.example.org"
MOODLE = "https://moodle.example.org"
AT = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)
SCENE = Scene(
    tool_url=TOOL, registration_id=4, issuer=f"{MOODLE}/", subject="3", name="Ana Ruiz",
    course_id=12, course_title="Forklift safety",
    course_url=f"{MOODLE}/course/view.php?id=2",
)  # fmt: skip

#: One call of every builder: what a learner can do in the mentor.
BUILT: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "asked": lambda s: builders.asked_question(s, question_id=5, text="How tight?", at=AT),
    "answered": lambda s: builders.answered_check_in(
        s, delivery_id=7, answer_id=42, question="Have you applied the checklist?",
        answer="not yet", at=AT),
    "survey": lambda s: builders.responded_to_survey(
        s, survey_id=3, response_id=9, title="How useful was the tip?", answer="4 of 5", at=AT),
    "rsvp": lambda s: builders.rsvped(
        s, session_id=8, rsvp_id=1, title="Office hours", answer=Rsvp.GOING, at=AT),
    "attended": lambda s: builders.attended(
        s, session_id=8, title="Office hours", at=AT, duration=timedelta(minutes=45)),
    "opened": lambda s: builders.opened_resource(
        s, resource_id=11, title="Loading video", url="https://videos.example.org/v/1", at=AT,
        activity_type=builders.MEDIA),
}  # fmt: skip


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize("action", sorted(BUILT))
def test_every_statement_is_valid_xapi_under_both_versions(action: str, version: str) -> None:
    statement = BUILT[action](SCENE)
    validate_statement(statement, version)
    assert "version" not in statement  # the LRS sets it
    assert statement["timestamp"] == "2026-11-24T09:30:15.123Z"


@pytest.mark.parametrize("action", sorted(BUILT))
def test_the_learner_course_and_platform_are_named(action: str) -> None:
    statement = BUILT[action](SCENE)
    assert statement["actor"] == {"objectType": "Agent", "name": "Ana Ruiz",
                                  "account": {"homePage": MOODLE, "name": "3"}}  # fmt: skip
    assert statement["object"]["id"].startswith(f"{TOOL}/xapi/activities/")
    assert statement["object"]["definition"]["type"].startswith("http")
    context = statement["context"]
    assert (context["platform"], context["language"]) == ("Virtual Mentor", "en")
    [course] = context["contextActivities"]["parent"]
    assert course["id"] == f"{MOODLE}/course/view.php?id=2"
    assert course["definition"]["name"] == {"en": "Forklift safety"}
    assert all(key.startswith(f"{TOOL}/") for key in context.get("extensions", {}))


@pytest.mark.parametrize(
    ("action", "verb", "response"),
    [
        ("asked", "http://adlnet.gov/expapi/verbs/asked", None),
        ("answered", "http://adlnet.gov/expapi/verbs/answered", "not yet"),
        ("survey", "http://adlnet.gov/expapi/verbs/responded", "4 of 5"),
        ("rsvp", "http://adlnet.gov/expapi/verbs/registered", "going"),
        ("attended", "http://adlnet.gov/expapi/verbs/attended", None),
        ("opened", "http://activitystrea.ms/schema/1.0/open", None),
    ],
)
def test_each_action_has_its_verb_and_answer(action: str, verb: str, response: str | None) -> None:
    statement = BUILT[action](SCENE)
    assert statement["verb"]["id"] == verb
    assert statement.get("result", {}).get("response") == response


def test_not_going_is_not_counted_as_registered() -> None:
    statement = builders.rsvped(SCENE, session_id=8, rsvp_id=2, title="Office hours",
                                answer=Rsvp.NOT_GOING, at=AT)  # fmt: skip
    assert statement["verb"]["id"] == "http://id.tincanapi.com/verb/unregistered"
    assert statement["result"]["response"] == "not going"


def test_the_same_happening_always_gets_the_same_id_and_others_another() -> None:
    again = builders.answered_check_in(SCENE, delivery_id=7, answer_id=42, question="Reworded?",
                                       answer="yes", at=AT + timedelta(hours=1))  # fmt: skip
    assert again["id"] == BUILT["answered"](SCENE)["id"]
    other = builders.answered_check_in(SCENE, delivery_id=7, answer_id=43, question="?",
                                       answer="yes", at=AT)  # fmt: skip
    assert other["id"] != again["id"]
    elsewhere = Scene(**{**SCENE.__dict__, "registration_id": 5})
    assert BUILT["answered"](elsewhere)["id"] != again["id"]
    other_install = Scene(**{**SCENE.__dict__, "tool_url": "https://other-mentor.example.org"})
    assert BUILT["answered"](other_install)["id"] != again["id"]
    assert again["id"] == builders.statement_id(TOOL, 4, "answered-check-in", "7:42")


def test_a_course_without_a_known_page_gets_the_tools_own_iri(db: SQLAlchemy) -> None:
    registration = RegistrationFactory(canvas=True)
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    person = PersonFactory(registration=registration, name=None, locale="fr-CA")
    scene = Scene.of(f"{TOOL}/", registration, person, course)
    statement = builders.asked_question(scene, question_id=1, text="Où ?", at=AT)
    [parent] = statement["context"]["contextActivities"]["parent"]
    assert parent["id"] == f"{TOOL}/xapi/activities/course/{course.id}"
    assert statement["context"]["language"] == "fr-CA"
    assert "name" not in statement["actor"]
    assert statement["actor"]["account"]["homePage"] == "https://canvas.instructure.com"


def test_our_normaliser_knows_the_learner_and_the_moodle_course_back(db: SQLAlchemy) -> None:
    registration = RegistrationFactory(issuer=MOODLE, product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3")
    statement = BUILT["answered"](Scene.of(TOOL, registration, ana, course))
    assert statement["context"]["contextActivities"]["parent"][0]["id"] == (
        f"{MOODLE}/course/view.php?id=2"
    )
    caller = Caller(None, registration.id, "loopback", registration.issuer)
    store(db.session(), caller, [statement], version="1.0.3", authority=statement["actor"], now=AT)
    event = db.session.query(LearningEvent).one()
    assert (event.person_id, event.course_id) == (ana.id, course.id)
