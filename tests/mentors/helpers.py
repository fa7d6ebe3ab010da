"""People in courses, for the mentor tests."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Course, Role
from lti_tool.mentors.models import MentorProfile
from tests.factories import EnrollmentFactory


def member(db: SQLAlchemy, course: Course, role: Role = Role.LEARNER, **fields: object) -> int:
    """A person enrolled in the course, with a mentor profile when ``profile`` names a title."""
    profile = fields.pop("profile", None)
    enrollment = EnrollmentFactory(course=course, role=role, **fields)
    if profile is not None:
        db.session.add(MentorProfile(person_id=enrollment.person_id, title=str(profile)))
    db.session.flush()
    return int(enrollment.person_id)
