"""Mentor profiles: how a mentor presents themselves, checked before it is kept."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses import freshness
from lti_tool.courses.models import Enrollment, EnrollmentStatus, Person, Role
from lti_tool.errors import AppError, NotFound
from lti_tool.i18n import _
from lti_tool.mentors.models import MentorProfile, Mentorship
from lti_tool.mentors.services import Mentor, as_mentor

#: The longest display name, title and bio, in characters.
MAX_NAME, MAX_TITLE, MAX_BIO = 120, 120, 1000


def save_profile(
    session: Session, registration_id: int, person_id: int, *, title: str, bio: str = "",
    display_name: str = "", photo_url: str = "",
) -> MentorProfile:  # fmt: skip
    """Create or update the mentor profile of a person of the registration; committed."""
    person = session.get(Person, person_id)
    if person is None or person.registration_id != registration_id:
        raise NotFound(
            _("Person %(id)s is not someone this platform has told us about.", id=person_id)
        )
    values = {
        "display_name": _limited("name", display_name, MAX_NAME),
        "title": _limited("title", title, MAX_TITLE),
        "bio": _limited("bio", bio, MAX_BIO),
        "photo_url": _photo(photo_url),
    }
    profile = session.scalar(select(MentorProfile).where(MentorProfile.person_id == person_id))
    if profile is None:
        profile = MentorProfile(person_id=person_id)
        session.add(profile)
    for name, value in values.items():
        setattr(profile, name, value)
    freshness.member_courses_changed(session, person_id)
    session.commit()
    return profile


def course_mentors(session: Session, course_id: int) -> list[Mentor]:
    """The course's mentors as learners see them: its active mentors with a profile, and
    anyone with a profile currently mentoring one of its learners (the head of training)."""
    enrolled = select(Enrollment.person_id).where(
        Enrollment.course_id == course_id,
        Enrollment.status == EnrollmentStatus.ACTIVE,
        Enrollment.role == Role.MENTOR,
    )
    pairing = select(Mentorship.mentor_id).where(
        Mentorship.course_id == course_id, Mentorship.ended_at.is_(None)
    )
    rows = session.execute(
        select(MentorProfile, Person)
        .join(Person, Person.id == MentorProfile.person_id)
        .where(Person.id.in_(enrolled) | Person.id.in_(pairing))
        .order_by(MentorProfile.id)
    ).all()
    return [as_mentor(profile, person) for profile, person in rows]


def _limited(what: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise AppError(f"The {what} is limited to {limit} characters; this one has {len(value)}.")
    return value


def _photo(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > 2048:
        raise AppError(_("The photo must be an https:// address of an image (or left empty)."))
    return url
