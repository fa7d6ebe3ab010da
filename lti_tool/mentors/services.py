"""Who mentors a learner, as the engine and the panel need to know it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Enrollment, EnrollmentStatus, Person, Role
from lti_tool.mentors.models import MentorProfile, Mentorship


@dataclass(frozen=True)
class Mentor:
    """A mentor as learners see them."""

    person_id: int
    name: str
    title: str
    bio: str
    photo_url: str
    email: str | None


def mentor_for(session: Session, course_id: int, mentee_id: int) -> Mentor | None:
    """The learner's mentor in the course: their current mentorship's, else the course's
    first mentor with a profile (mentors before instructors), else nobody."""
    paired = session.execute(
        select(MentorProfile, Person)
        .join(Person, Person.id == MentorProfile.person_id)
        .join(Mentorship, Mentorship.mentor_id == Person.id)
        .where(
            Mentorship.course_id == course_id,
            Mentorship.mentee_id == mentee_id,
            Mentorship.ended_at.is_(None),
        )
    ).first()
    if paired is None:
        paired = session.execute(
            select(MentorProfile, Person)
            .join(Person, Person.id == MentorProfile.person_id)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .where(
                Enrollment.course_id == course_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
                Enrollment.role.in_([Role.MENTOR, Role.INSTRUCTOR]),
            )
            .order_by(case((Enrollment.role == Role.MENTOR, 0), else_=1), MentorProfile.id)
            .limit(1)
        ).first()
    if paired is None:
        return None
    profile, person = paired
    return as_mentor(profile, person)


def as_mentor(profile: MentorProfile, person: Person) -> Mentor:
    """A mentor as learners see them, from their profile and what the platform told us."""
    return Mentor(
        person_id=person.id, name=profile.display_name or person.display_name,
        title=profile.title, bio=profile.bio, photo_url=profile.photo_url, email=person.email,
    )  # fmt: skip
