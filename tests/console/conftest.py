"""Two courses of one platform, with learners, mentors and launch tokens for the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Course, Enrollment, Person, Role
from lti_tool.extensions import db as _db
from lti_tool.lti import tokens
from lti_tool.mentors.models import Mentorship
from tests.factories import CourseFactory, EnrollmentFactory
from tests.mentors.helpers import member


@pytest.fixture(autouse=True)
def tool_url(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")


@dataclass
class Courses:
    """Course A ("Leading teams"): learners Ana and Bo, Ana's mentor Mo, mentor Lu, teacher
    Ines. Course B of the same platform: learner Cy and mentor Di; Mo mentors there too."""

    app: Flask
    a: Course
    b: Course
    ana: int
    bo: int
    mo: int
    lu: int
    ines: int
    cy: int
    di: int

    def token(self, person_id: int, role: Role | None = None, course: Course | None = None) -> str:
        """A launch token for the person in course A (or ``course``), with their role there
        (as a launch issues it; ``role`` only to forge another)."""
        course = course or self.a
        if role is None:
            role = _db.session.scalar(select(Enrollment.role).where(
                Enrollment.course_id == course.id, Enrollment.person_id == person_id
            )) or Role.MENTOR  # fmt: skip
        context = tokens.LaunchContext(course.deployment.registration_id, course.deployment_id,
                                       course.id, person_id, role)  # fmt: skip
        return tokens.issue(context, self.app.config["SECRET_KEY"])

    def get(self, client: FlaskClient, path: str, person_id: int, **kw: Any) -> Any:
        """GET a console page as the person (a mentor of course A unless ``role``/``course``)."""
        query = {"lt": self.token(person_id, **kw)}
        return client.get(path, query_string=query)

    def post(self, client: FlaskClient, path: str, person_id: int, data: dict[str, str],
             **kw: Any) -> Any:  # fmt: skip
        """POST a console form as the person."""
        return client.post(path, data={"lt": self.token(person_id, **kw), **data})


@pytest.fixture
def courses(app: Flask, db: SQLAlchemy, frozen_clock: FixedClock) -> Courses:
    """The two courses; the clock stopped."""
    a = CourseFactory(title="Leading teams")
    b = CourseFactory(title="Safety at work", deployment=a.deployment)
    ana = member(db, a, person__name="Ana Lima", person__given_name="Ana")
    bo = member(db, a, person__name="Bo Berg")
    mo = member(db, a, Role.MENTOR, profile="Coach", person__name="Mo Diaz")
    lu = member(db, a, Role.MENTOR, person__name="Lu Chen")
    ines = member(db, a, Role.INSTRUCTOR, person__name="Ines Roy")
    cy = member(db, b, person__name="Cy Park")
    di = member(db, b, Role.MENTOR, profile="Coach", person__name="Di Ode")
    EnrollmentFactory(course=b, person=db.session.get(Person, mo), role=Role.MENTOR)
    db.session.add(Mentorship(course_id=a.id, mentor_id=mo, mentee_id=ana))
    db.session.commit()
    return Courses(app, a, b, ana, bo, mo, lu, ines, cy, di)
