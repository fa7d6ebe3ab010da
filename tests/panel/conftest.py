"""The mentoring tests' tenant (a Moodle course with learner Ana); and a course with learner
Ana, her mentor Maya (profile, photo, paired), another learner Ben and an instructor, each
with a launch token, and a client that acts as one of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from werkzeug.test import TestResponse

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Course, Role
from lti_tool.lti import tokens
from lti_tool.mentors import pairing
from lti_tool.mentors.models import MentorProfile
from tests.factories import CourseFactory, EnrollmentFactory
from tests.mentoring.conftest import tenant  # noqa: F401 (a fixture, shared by import)

PHOTO = "https://photos.example.org/maya.jpg"


@dataclass
class People:
    """Who is in the course, by name, and a client acting as one of them."""

    client: FlaskClient
    course: Course
    ids: dict[str, int]
    token: dict[str, str]

    def get(self, who: str, path: str) -> TestResponse:
        """``who`` opens a panel page."""
        return self.client.get(path, query_string={"lt": self.token[who]})

    def post(self, who: str, path: str, **form: Any) -> TestResponse:
        """``who`` sends a panel form."""
        return self.client.post(path, data={"lt": self.token[who], **form})


def launch_token(app: Flask, course: Course, person_id: int, role: Role) -> str:
    """A launch token of the person in the course, as the launch would issue it."""
    context = tokens.LaunchContext(course.deployment.registration_id, course.deployment_id,
                                   course.id, person_id, role)  # fmt: skip
    return tokens.issue(context, app.config["SECRET_KEY"])


@pytest.fixture
def people(
    app: Flask, db: SQLAlchemy, client: FlaskClient, frozen_clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> People:  # fmt: skip
    """Ana (paired with Maya), Ben (no pairing, so Maya too, as the course's mentor), Maya the
    mentor and Ivan the instructor."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    course = CourseFactory(title="Customer Service Essentials")
    roles = {"ana": Role.LEARNER, "ben": Role.LEARNER, "maya": Role.MENTOR,
             "ivan": Role.INSTRUCTOR}  # fmt: skip
    names = {"ana": ("Ana", "Silva"), "ben": ("Ben", "Okoro"), "maya": ("Maya", "Okafor"),
             "ivan": ("Ivan", "Petrov")}  # fmt: skip
    ids = {}
    for who, role in roles.items():
        given, family = names[who]
        enrollment = EnrollmentFactory(course=course, role=role, person__given_name=given,
                                       person__family_name=family,
                                       person__email=f"{who}@example.org")  # fmt: skip
        ids[who] = enrollment.person_id
    db.session.add(MentorProfile(
        person_id=ids["maya"], title="Head of training, Lyon", photo_url=PHOTO,
        bio="Fifteen years on the front desk.\nAsk me anything about difficult calls.",
    ))  # fmt: skip
    db.session.commit()
    pairing.pair(db.session(), course.id, ids["maya"], ids["ana"])
    token = {who: launch_token(app, course, ids[who], role) for who, role in roles.items()}
    return People(client, course, ids, token)
