"""Rows for tests that run on their own database (no factories, no rolled-back transaction):
a platform with a deployment and a course."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.courses.models import Course
from lti_tool.lti.models import Deployment, PlatformRegistration


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
