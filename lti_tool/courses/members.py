"""Who is in a course, and as what: the checks every course-scoped service makes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Enrollment, EnrollmentStatus, Role

#: Roles that look after learners: they may answer questions and see the course's threads.
STAFF = frozenset({Role.MENTOR, Role.INSTRUCTOR, Role.ADMIN})


def active_role(session: Session, course_id: int, person_id: int) -> Role | None:
    """The person's role in the course while their enrollment is active; else none."""
    return session.scalar(
        select(Enrollment.role).where(
            Enrollment.course_id == course_id,
            Enrollment.person_id == person_id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )


def active_people(session: Session, course_id: int, roles: Iterable[Role]) -> list[int]:
    """The course's active members in these roles, by person id."""
    return list(
        session.scalars(
            select(Enrollment.person_id)
            .where(
                Enrollment.course_id == course_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
                Enrollment.role.in_(list(roles)),
            )
            .order_by(Enrollment.person_id)
        )
    )
