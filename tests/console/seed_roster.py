"""A course with two mentors, four learners in sections, a question, a survey and a session,
and a second course of the same platform, for the roster, results and sessions tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Course, Role
from lti_tool.lti import tokens
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    JourneyStatus,
    LearnerPreference,
    Message,
    MessageKind,
    Response,
    Rsvp,
    RsvpAnswer,
    Sequence,
    Step,
)
from lti_tool.topics.models import Topic
from tests.factories import CourseFactory, DeploymentFactory, RegistrationFactory
from tests.mentors.helpers import member

CHOICES = [{"key": "yes", "label": "Yes"}, {"key": "not_yet", "label": "Not yet"},
           {"key": "help", "label": "I need help"}]  # fmt: skip
SURVEY_ITEMS = [
    {"key": "useful", "kind": "likert", "prompt": "The course was useful", "required": True,
     "labels": ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
                "Strongly agree"]},
    {"key": "more", "kind": "text", "prompt": "Anything else?", "required": False},
]  # fmt: skip
SESSION = {"starts_at": "2026-12-01T13:00:00+00:00", "ends_at": "2026-12-01T14:00:00+00:00",
           "time_zone": "Europe/Paris", "format": "office_hours", "place": "Room 4",
           "url": None, "capacity": 2}  # fmt: skip
#: When the question and survey reached the learners (a Monday).
SENT = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass
class Seeded:
    """Ids the tests need."""

    registration_id: int
    course: Course
    other: Course
    mentor: int
    second_mentor: int
    ana: int  # Lyon, waiting on an answer
    ben: int  # Paris, asked for help
    cleo: int  # no section, not started, opted out of tips
    dan: int  # Lyon, answered yes and the survey; follow-up finished
    stranger: int  # a learner of the other course
    question: int
    survey: int
    session: int
    other_session: int

    def token(self, app: Flask, person_id: int, role: Role = Role.MENTOR,
              course: Course | None = None) -> str:  # fmt: skip
        """A launch token for someone of the course (or of another)."""
        course = course or self.course
        context = tokens.LaunchContext(self.registration_id, course.deployment_id, course.id,
                                       person_id, role)  # fmt: skip
        return tokens.issue(context, app.config["SECRET_KEY"])


def _message(db: SQLAlchemy, registration_id: int, kind: MessageKind, title: str,
             **fields: object) -> Message:  # fmt: skip
    message = Message(registration_id=registration_id, kind=kind, title=title, **fields)
    db.session.add(message)
    db.session.flush()
    return message


def _deliver(db: SQLAlchemy, journey: Journey, step: Step, course_id: int,
             status: DeliveryStatus = DeliveryStatus.DELIVERED) -> Delivery:  # fmt: skip
    delivery = Delivery(
        journey_id=journey.id, step_id=step.id, person_id=journey.person_id, course_id=course_id,
        message_id=step.message_id, status=status, due_at=SENT,
        delivered_at=SENT if status == DeliveryStatus.DELIVERED else None,
    )  # fmt: skip
    db.session.add(delivery)
    db.session.flush()
    return delivery


def _answer(db: SQLAlchemy, delivery: Delivery, answer: str, at: datetime,
            **fields: object) -> None:  # fmt: skip
    db.session.add(Response(delivery_id=delivery.id, answer=answer, via="panel", answered_at=at,
                            **fields))  # fmt: skip


@pytest.fixture
def seeded(db: SQLAlchemy, app: Flask, frozen_clock: FixedClock,
           monkeypatch: pytest.MonkeyPatch) -> Seeded:  # fmt: skip
    """The course as the docstring of this module says, the clock on 2026-11-25 09:00 UTC."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    frozen_clock.at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    registration = RegistrationFactory()
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    other = CourseFactory(deployment=course.deployment)
    mentor = member(db, course, Role.MENTOR, profile="Mentor", person__name="Maya Okafor")
    second = member(db, course, Role.MENTOR, profile="Mentor", person__name="Sam Reyes")
    ana = member(db, course, section="Lyon", person__name="Ana Lima", person__family_name="A")
    ben = member(db, course, section="Paris", person__name="Ben Cole", person__family_name="B")
    cleo = member(db, course, person__name="Cleo Diaz", person__family_name="C")
    dan = member(db, course, section="Lyon", person__name="Dan Eze", person__family_name="D")
    stranger = member(db, other, person__name="Stella Other")
    topic = Topic(registration_id=registration.id, course_id=course.id, name="Active listening")
    db.session.add(topic)
    db.session.add(LearnerPreference(person_id=cleo, opted_out=["tip"]))
    db.session.flush()
    question = _message(db, registration.id, MessageKind.QUESTION, "Have you applied it?",
                        topic_id=topic.id, choices=CHOICES)  # fmt: skip
    survey = _message(db, registration.id, MessageKind.SURVEY, "How was it?", topic_id=topic.id,
                      details={"items": SURVEY_ITEMS})  # fmt: skip
    meeting = _message(db, registration.id, MessageKind.SESSION, "Office hours", details=SESSION)
    other_meeting = _message(db, registration.id, MessageKind.SESSION, "Elsewhere",
                             details=SESSION)  # fmt: skip
    sequence = Sequence(registration_id=registration.id, course_id=None, name="Listening plan")
    db.session.add(sequence)
    db.session.flush()
    steps = [Step(sequence_id=sequence.id, key=key, message_id=message.id, offset_seconds=0)
             for key, message in (("ask", question), ("survey", survey), ("meet", meeting),
                                  ("elsewhere", other_meeting))]  # fmt: skip
    db.session.add_all(steps)
    db.session.flush()
    ask, poll, meet, elsewhere = steps
    journeys = {}
    for person, course_id in ((ana, course.id), (ben, course.id), (dan, course.id),
                              (stranger, other.id)):  # fmt: skip
        journeys[person] = Journey(sequence_id=sequence.id, course_id=course_id,
                                   person_id=person, started_at=SENT)  # fmt: skip
    db.session.add_all(journeys.values())
    db.session.flush()
    _deliver(db, journeys[ana], ask, course.id)  # delivered, not answered
    _deliver(db, journeys[ana], poll, course.id, DeliveryStatus.SCHEDULED)  # still to come
    asked_ben = _deliver(db, journeys[ben], ask, course.id)
    _answer(db, asked_ben, "help", datetime(2026, 11, 24, 9, 0, tzinfo=UTC), escalated=True)
    asked_dan = _deliver(db, journeys[dan], ask, course.id)
    _answer(db, asked_dan, "yes", datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    polled_dan = _deliver(db, journeys[dan], poll, course.id)
    _answer(db, polled_dan, "submitted", datetime(2026, 11, 16, 11, 0, tzinfo=UTC),
            answers={"useful": 4, "more": "Thanks"})  # fmt: skip
    journeys[ben].status = JourneyStatus.STOPPED
    # The other course: an answer to the same question, which this course must not count.
    asked_stranger = _deliver(db, journeys[stranger], ask, other.id)
    _answer(db, asked_stranger, "yes", datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    _deliver(db, journeys[stranger], elsewhere, other.id)
    for person in (ana, ben, dan):
        _deliver(db, journeys[person], meet, course.id)
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for minutes, person, answer in (
        (1, ana, RsvpAnswer.GOING),
        (2, dan, RsvpAnswer.GOING),
        (3, ben, RsvpAnswer.WAITLISTED),
        (4, cleo, RsvpAnswer.MAYBE),
    ):
        db.session.add(Rsvp(message_id=meeting.id, person_id=person, course_id=course.id,
                            answer=answer, answered_at=at.replace(minute=minutes)))  # fmt: skip
    db.session.commit()
    return Seeded(registration.id, course, other, mentor, second, ana, ben, cleo, dan, stranger,
                  question.id, survey.id, meeting.id, other_meeting.id)  # fmt: skip
