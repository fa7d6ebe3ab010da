"""Rows for tests that run on their own database (no factories, no rolled-back transaction):
a platform with a deployment and a course; learners with a welcome due."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.courses.models import Course, Person
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.mentoring import journeys, plans


def platform_course(
    session: Session, issuer: str = "https://lms.example.org", title: str = "Course"
) -> tuple[PlatformRegistration, Course]:
    """A registered platform, its deployment "1" and its course "2" (flushed)."""
    registration = PlatformRegistration(
        issuer=issuer, client_id="c", name="LMS", auth_login_url=f"{issuer}/a",
        auth_token_url=f"{issuer}/t", key_set_url=f"{issuer}/k",
    )  # fmt: skip
    session.add(registration)
    session.flush()
    deployment = Deployment(registration_id=registration.id, deployment_id="1")
    session.add(deployment)
    session.flush()
    course = Course(deployment_id=deployment.id, context_id="2", title=title)
    session.add(course)
    session.flush()
    return registration, course


def welcome_due(session: Session, learners: int) -> None:
    """A course of ``learners`` learners (each with an email address), each with a welcome
    due now (committed: the commit wakes the dispatcher)."""
    registration, course = platform_course(session)
    people = [Person(registration_id=registration.id, subject=str(n), given_name=f"L{n}",
                     email=f"learner{n}@example.org", time_zone="UTC")
              for n in range(learners)]  # fmt: skip
    session.add_all(people)
    session.flush()
    sequence, _rules = plans.store(session, registration.id, {"name": "Welcome", "steps": [
        {"key": "hello", "offset_days": 0, "message": {"kind": "welcome", "title": "Hi"}},
    ]})  # fmt: skip
    journeys.start(session, [
        journeys.Start(sequence.id, course.id, person.id, "test") for person in people
    ])  # fmt: skip
    session.commit()
