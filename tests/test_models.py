"""The first models keep tenants apart and refuse what would corrupt them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from lti_tool.models import Course, Enrollment, Person, PlatformRegistration, Role
from tests.factories import (
    CourseFactory,
    DeploymentFactory,
    EnrollmentFactory,
    PersonFactory,
    RegistrationFactory,
)


def test_one_issuer_can_have_many_registrations(db: SQLAlchemy) -> None:
    """Canvas uses one issuer for every customer: registrations are keyed by client id too."""
    first = RegistrationFactory(canvas=True, client_id="10000000000001")
    second = RegistrationFactory(canvas=True, client_id="10000000000002")
    assert first.issuer == second.issuer
    assert (
        db.session.scalar(
            select(PlatformRegistration).filter_by(issuer=first.issuer, client_id="10000000000002")
        )
        is second
    )


def test_the_same_issuer_and_client_cannot_be_registered_twice(db: SQLAlchemy) -> None:
    RegistrationFactory(issuer="https://moodle.example.edu", client_id="abc")
    with pytest.raises(IntegrityError):
        RegistrationFactory(issuer="https://moodle.example.edu", client_id="abc")


def test_course_ids_are_unique_within_a_deployment_only(db: SQLAlchemy) -> None:
    first, second = DeploymentFactory(), DeploymentFactory()
    CourseFactory(deployment=first, context_id="course-1")
    CourseFactory(deployment=second, context_id="course-1")  # another tenant's course 1
    with pytest.raises(IntegrityError):
        CourseFactory(deployment=first, context_id="course-1")


def test_people_are_scoped_by_registration(db: SQLAlchemy) -> None:
    moodle, canvas = RegistrationFactory(), RegistrationFactory(canvas=True)
    PersonFactory(registration=moodle, subject="42")
    PersonFactory(registration=canvas, subject="42")  # a different person entirely
    assert (
        db.session.scalar(select(Person).filter_by(registration=moodle, subject="42")).registration
        is moodle
    )


def test_enrollment_is_unique_per_course_and_person(db: SQLAlchemy) -> None:
    enrollment = EnrollmentFactory()
    with pytest.raises(IntegrityError):
        EnrollmentFactory(course=enrollment.course, person=enrollment.person)


def test_roles_outside_the_list_are_refused_by_the_database(db: SQLAlchemy) -> None:
    enrollment = EnrollmentFactory(instructor=True)
    assert enrollment.role is Role.INSTRUCTOR
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE enrollments SET role = 'superuser' WHERE id = :id"), {"id": enrollment.id}
        )


def test_deleting_a_registration_removes_its_tenant_data(db: SQLAlchemy) -> None:
    enrollment = EnrollmentFactory()
    other = EnrollmentFactory()
    registration = enrollment.course.deployment.registration
    db.session.delete(registration)
    db.session.flush()
    # The database cascades (ON DELETE CASCADE) to courses, people and enrollments;
    # another tenant's rows stay.
    assert db.session.scalars(select(Person.id)).all() == [other.person_id]
    assert db.session.scalars(select(Enrollment.id)).all() == [other.id]
    assert db.session.scalars(select(Course.id)).all() == [other.course_id]


def test_timestamps_are_utc_aware_on_every_database(db: SQLAlchemy) -> None:
    person = PersonFactory()
    paris = timezone(timedelta(hours=1))
    person.last_launch_at = datetime(2026, 11, 24, 10, 30, tzinfo=paris)
    db.session.flush()
    db.session.expire_all()
    assert person.last_launch_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert person.last_launch_at.tzinfo is UTC
    assert person.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(db: SQLAlchemy) -> None:
    person = PersonFactory()
    person.last_launch_at = datetime(2026, 11, 24, 10, 30)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"name": "Ada Lindqvist", "given_name": "Ada"}, "Ada Lindqvist"),
        ({"name": None, "given_name": "Ada", "family_name": "Lindqvist"}, "Ada Lindqvist"),
        ({"name": None, "given_name": None, "family_name": None}, "Learner"),
    ],
)
def test_display_name_uses_what_the_platform_sent(
    names: dict[str, str | None], expected: str
) -> None:
    assert Person(**names).display_name == expected
