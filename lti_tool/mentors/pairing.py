"""Pairing mentees with mentors: by hand, round-robin, or by section. Each pairing records
how it was made; a learner has at most one current mentor per course (a partial unique index),
also when two pairings of one learner race."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import freshness
from lti_tool.courses.members import STAFF, active_people, active_role
from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.errors import AppError, Conflict, Forbidden, NotFound
from lti_tool.i18n import _
from lti_tool.mentors import assignment
from lti_tool.mentors.models import MentorProfile, Mentorship, PairedBy, SectionMentor

#: Tries when a concurrent pairing of the same learner wins the race.
TRIES = 3


def pair(
    session: Session, course_id: int, mentor_id: int, mentee_id: int, *,
    paired_by: PairedBy = PairedBy.HAND, actor_id: int | None = None,
) -> Mentorship:  # fmt: skip
    """Make ``mentor_id`` the learner's mentor in the course (ending the current pairing);
    committed. ``actor_id``: who asks (a mentor, instructor or administrator of the course);
    none for the tool's administrator."""
    _check_actor(session, course_id, actor_id)
    if active_role(session, course_id, mentee_id) is not Role.LEARNER:
        raise AppError(_("Person %(person)s is not an active learner of course %(course)s.",
                         person=mentee_id, course=course_id))  # fmt: skip
    _check_mentor(session, course_id, mentor_id)
    mentorship = _pair(session, course_id, mentor_id, mentee_id, paired_by)
    session.commit()
    return mentorship


def round_robin(session: Session, course_id: int, *, actor_id: int | None = None) -> dict[int, int]:
    """Spread the course's unpaired active learners over its mentors (fewest mentees first,
    in person order); the pairings made, mentee -> mentor; committed."""
    _check_actor(session, course_id, actor_id)
    mentors = session.scalars(
        select(MentorProfile.person_id)
        .where(MentorProfile.person_id.in_(active_people(session, course_id, [Role.MENTOR])))
        .order_by(MentorProfile.person_id)
    ).all()
    if not mentors:
        raise Conflict(_("Course %(course)s has no active mentor with a profile to pair "
                         "learners with.", course=course_id))  # fmt: skip
    current = _current(session, course_id)
    load = dict.fromkeys(mentors, 0)
    for mentor, _how in current.values():
        if mentor in load:
            load[mentor] += 1
    unpaired = [p for p in active_people(session, course_id, [Role.LEARNER]) if p not in current]
    made = _make(session, course_id, assignment.spread(unpaired, load), PairedBy.ROUND_ROBIN)
    session.commit()
    return made


def assign_section(
    session: Session, course_id: int, section: str, mentor_id: int, *, actor_id: int | None = None
) -> SectionMentor:
    """The mentor who takes the learners of a section (``Enrollment.section``); committed."""
    _check_actor(session, course_id, actor_id)
    section = (section or "").strip()
    if not section or len(section) > 255:
        raise AppError(_("Name the section as the platform names it (1 to 255 characters)."))
    _check_mentor(session, course_id, mentor_id)
    mapping = session.scalar(
        select(SectionMentor).where(
            SectionMentor.course_id == course_id, SectionMentor.section == section
        )
    )
    if mapping is None:
        mapping = SectionMentor(course_id=course_id, section=section)
        session.add(mapping)
    mapping.mentor_id, mapping.assigned_at = mentor_id, clock.now()
    session.commit()
    return mapping


def pair_by_section(
    session: Session, course_id: int, *, actor_id: int | None = None
) -> dict[int, int]:
    """Pair the course's learners with their section's mentor (see
    ``assignment.by_section``); the pairings made, mentee -> mentor; committed."""
    _check_actor(session, course_id, actor_id)
    sections = dict(
        session.execute(
            select(Enrollment.person_id, Enrollment.section).where(
                Enrollment.course_id == course_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
                Enrollment.role == Role.LEARNER,
            )
        ).all()
    )
    mentors = dict(
        session.execute(
            select(SectionMentor.section, SectionMentor.mentor_id).where(
                SectionMentor.course_id == course_id
            )
        ).all()
    )
    wanted = assignment.by_section(sections, _current(session, course_id), mentors)
    made = _make(session, course_id, wanted, PairedBy.SECTION)
    session.commit()
    return made


def _pair(
    session: Session, course_id: int, mentor_id: int, mentee_id: int, paired_by: PairedBy
) -> Mentorship:
    """End the current pairing and start the new one, in a savepoint.

    Pairings of one learner queue on their enrollment's row lock (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` serialises writers anyway), so each starts from the last one's
    result. A pairing written without that lock that commits first makes the insert fail
    on the unique index, and we try again on top of it: the last one wins, and there are
    never two current mentors."""
    session.execute(
        select(Enrollment.id)
        .where(Enrollment.course_id == course_id, Enrollment.person_id == mentee_id)
        .with_for_update()
    )
    for _attempt in range(TRIES):
        current = session.scalar(
            select(Mentorship).where(
                Mentorship.course_id == course_id,
                Mentorship.mentee_id == mentee_id,
                Mentorship.ended_at.is_(None),
            )
        )
        if current is not None and current.mentor_id == mentor_id:
            return current
        now = clock.now()
        try:
            with session.begin_nested():
                session.execute(
                    update(Mentorship)
                    .where(
                        Mentorship.course_id == course_id,
                        Mentorship.mentee_id == mentee_id,
                        Mentorship.ended_at.is_(None),
                    )
                    .values(ended_at=now)
                    .execution_options(synchronize_session="fetch")
                )
                mentorship = Mentorship(
                    course_id=course_id, mentor_id=mentor_id, mentee_id=mentee_id,
                    paired_by=paired_by, started_at=now,
                )  # fmt: skip
                session.add(mentorship)
                session.flush()
            freshness.learner_changed(session, course_id, mentee_id)
            return mentorship
        except IntegrityError:
            continue
    raise Conflict(_("This learner's mentor was being changed by someone else at the same "
                     "moment; look at who it is now and try again."))  # fmt: skip


def _make(
    session: Session, course_id: int, wanted: dict[int, int], paired_by: PairedBy
) -> dict[int, int]:
    return {
        mentee: _pair(session, course_id, mentor, mentee, paired_by).mentor_id
        for mentee, mentor in wanted.items()
    }


def _current(session: Session, course_id: int) -> dict[int, tuple[int, PairedBy]]:
    rows = session.execute(
        select(Mentorship.mentee_id, Mentorship.mentor_id, Mentorship.paired_by).where(
            Mentorship.course_id == course_id, Mentorship.ended_at.is_(None)
        )
    ).all()
    return {mentee: (mentor, how) for mentee, mentor, how in rows}


def mentee_counts(session: Session, course_id: int) -> dict[int, int]:
    """How many current mentees each mentor has in the course."""
    rows = session.execute(
        select(Mentorship.mentor_id, func.count())
        .where(Mentorship.course_id == course_id, Mentorship.ended_at.is_(None))
        .group_by(Mentorship.mentor_id)
    ).all()
    return dict(rows)


def _check_actor(session: Session, course_id: int, actor_id: int | None) -> None:
    if actor_id is not None and active_role(session, course_id, actor_id) not in STAFF:
        raise Forbidden(_("Only the course's mentors, instructors and administrators can pair "
                          "learners with mentors."))  # fmt: skip


def _check_mentor(session: Session, course_id: int, mentor_id: int) -> None:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(_("There is no course %(id)s.", id=course_id))
    person = session.get(Person, mentor_id)
    if person is None or person.registration_id != course.deployment.registration_id:
        raise NotFound(_("Person %(id)s is not someone this course's platform told us about.",
                         id=mentor_id))  # fmt: skip
    if session.scalar(select(MentorProfile.id).where(MentorProfile.person_id == mentor_id)) is None:
        raise AppError(_("%(name)s has no mentor profile yet: learners need a name, a title "
                         "and a photo or initials to know who writes to them.",
                         name=person.display_name))  # fmt: skip
