"""Courses, people and enrollments, each scoped to the platform that told us about them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime
from lti_tool.lti.models import Deployment, PlatformRegistration


class Course(Timestamps, Base):
    """An LTI context: ids are unique within the deployment that launched it."""

    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("deployment_id", "context_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The deployment the course was launched through; scopes every query about it.
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    #: The platform's context ``id`` claim.
    context_id: Mapped[str] = mapped_column(String(255))
    #: The course's full title, as the platform sends it.
    title: Mapped[str] = mapped_column(String(500), default="")
    #: The course's short label (code), as the platform sends it.
    label: Mapped[str] = mapped_column(String(255), default="")
    #: Names-and-roles: where the platform serves this course's roster (from launches).
    memberships_url: Mapped[str | None] = mapped_column(Text)
    #: Assignment and grade services: the course's line items URL (from launches).
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    #: The grade-service scopes the platform granted for this course.
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: Moves on whenever something every learner's panel shows changes (a message edited, a
    #: place taken at a session): the panel's page cache keys on it (``courses.freshness``).
    panel_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    deployment: Mapped[Deployment] = relationship()
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="course", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.context_id!r}>"


def display_name(name: str | None, given_name: str | None, family_name: str | None) -> str:
    """The best name we have for someone: the full name, else given and family, else "Learner"."""
    return name or " ".join(filter(None, [given_name, family_name])) or "Learner"


class Person(Timestamps, Base):
    """Someone a platform launched or listed: keyed by (registration, ``sub``).

    Only the personal data the platform chose to send is kept.
    """

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("registration_id", "subject"),
        # Learners named by email (an xAPI mbox) are found by it, in any case. PostgreSQL
        # only: SQLite's batch migrations rebuild tables without expression indexes.
        Index("ix_people_registration_id_email", "registration_id", text("lower(email)")).ddl_if(
            dialect="postgresql"
        ),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The registration whose platform vouches for this person.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: The platform's stable user id (the ``sub`` claim).
    subject: Mapped[str] = mapped_column(String(255))
    #: Full name, if the platform sent it.
    name: Mapped[str | None] = mapped_column(String(255))
    #: Given name, if sent (greetings use it).
    given_name: Mapped[str | None] = mapped_column(String(255))
    #: Family name, if sent.
    family_name: Mapped[str | None] = mapped_column(String(255))
    #: Email address, if sent (the email channel needs it).
    email: Mapped[str | None] = mapped_column(String(320))
    #: Preferred language (BCP 47), if sent.
    locale: Mapped[str | None] = mapped_column(String(35))
    #: IANA time zone for quiet hours; the learner may set it.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: Picture URL, if sent.
    picture_url: Mapped[str | None] = mapped_column(Text)
    #: The LMS's own user id where it differs from ``sub`` (Canvas's numeric id), learned by
    #: the completion reader.
    lms_user_id: Mapped[str | None] = mapped_column(String(64))
    #: When this person last launched the tool (none for roster-only people).
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[PlatformRegistration] = relationship()
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def display_name(self) -> str:
        """The best name we have for this person."""
        return display_name(self.name, self.given_name, self.family_name)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.subject!r}>"


class Role(StrEnum):
    """What a person does in a course, mapped from LTI roles."""

    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    MENTOR = "mentor"
    ADMIN = "admin"


class EnrollmentStatus(StrEnum):
    """Membership status (names-and-roles: Active, Inactive, Deleted)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"


class Enrollment(Timestamps, Base):
    """A person's place in a course."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: The person.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: The role that decides what the person sees.
    role: Mapped[Role] = mapped_column(enum_column(Role, "enrollment_role"))
    #: The LTI role URIs exactly as the platform sent them.
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Inactive and deleted members are kept, not lost.
    status: Mapped[EnrollmentStatus] = mapped_column(
        enum_column(EnrollmentStatus, "enrollment_status"), default=EnrollmentStatus.ACTIVE
    )
    #: The course section (group) the platform placed them in, from the launch's LIS claim
    #: (``course_section_sourcedid``: Canvas's section SIS id, Moodle's course id number);
    #: pairing by section reads it. Empty when the platform never said.
    section: Mapped[str | None] = mapped_column(String(255))
    #: Moves on whenever something this member's panel shows changes (a message delivered, an
    #: answer, a reply): the panel's page cache keys on it (``courses.freshness``).
    panel_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    course: Mapped[Course] = relationship(back_populates="enrollments")
    person: Mapped[Person] = relationship(back_populates="enrollments")

    def __repr__(self) -> str:
        return f"<Enrollment {self.id} person {self.person_id} in course {self.course_id}>"
