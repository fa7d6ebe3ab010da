"""What the panel's tests share: Ana's delivered messages and a second learner, Bea."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Course, Role
from lti_tool.lti import tokens
from lti_tool.mentoring.models import Delivery
from tests.factories import EnrollmentFactory, PersonFactory
from tests.mentoring.conftest import Tenant


def welcomed(client: FlaskClient, db: SQLAlchemy, tenant: Tenant) -> Delivery:
    """Ana completes the quiz at 10:00 UTC and her welcome reaches her panel."""
    tenant.add_plan(db)
    tenant.clock.at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    tenant.post(client)
    assert tenant.later(db) == 1
    return tenant.deliveries(db)[0]


def bea(app: Flask, db: SQLAlchemy, tenant: Tenant) -> str:
    """A second learner of Ana's course; her launch token."""
    course = db.session.get_one(Course, tenant.course_id)
    person = PersonFactory(registration=course.deployment.registration, given_name="Bea")
    EnrollmentFactory(course=course, person=person)
    db.session.commit()
    context = tokens.LaunchContext(tenant.registration_id, course.deployment_id, course.id,
                                   person.id, Role.LEARNER)  # fmt: skip
    return tokens.issue(context, app.config["SECRET_KEY"])
