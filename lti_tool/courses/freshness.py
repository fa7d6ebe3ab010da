"""How fresh a learner's panel is: a version per enrollment and one per course.

Every write that changes what a learner's panel shows says so here, in the transaction of
the write: what is theirs alone (a message delivered to them, their answer, a reply to
their question, their preferences) moves their enrollment's version on; what every
learner of a course sees (a message edited, a place taken at a session, the mentor's
profile) moves the course's. The launch check reads both with the row it reads anyway, so
the panel's page cache (``panel.cache``) knows at no extra query whether the page it kept
is still true — whichever process made the change.

The versions move when the transaction commits, as its last statements, each row once
however often it was named, in one order (enrollments, then courses, by key): two
transactions that both move versions (two dispatchers, an answer and a dispatcher) take
the rows' locks in the same order and never deadlock, and a rolled-back write moves none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.orm import Session, scoped_session

from lti_tool.courses.models import Course, Enrollment

_e, _c = cast(Table, Enrollment.__table__), cast(Table, Course.__table__)
# updated_at kept as it is: it says when the membership or course changed, not its panel.
_LEARNER = (
    update(_e)
    .where(_e.c.course_id == bindparam("course"), _e.c.person_id == bindparam("person"))
    .values(panel_version=_e.c.panel_version + 1, updated_at=_e.c.updated_at)
)
_PERSON = (
    update(_e)
    .where(_e.c.person_id == bindparam("person"))
    .values(panel_version=_e.c.panel_version + 1, updated_at=_e.c.updated_at)
)
_COURSE = (
    update(_c)
    .where(_c.c.id == bindparam("course"))
    .values(panel_version=_c.c.panel_version + 1, updated_at=_c.c.updated_at)
)
_PENDING = "vm.panel_changes"


class _Changes:
    """What a transaction changed, until it commits."""

    def __init__(self) -> None:
        self.learners: set[tuple[int, int]] = set()
        self.people: set[int] = set()
        self.courses: set[int] = set()


def _changes(session: Session | scoped_session[Session]) -> _Changes:
    changes: _Changes = session.info.setdefault(_PENDING, _Changes())
    return changes


def learners_changed(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """What these learners' panels show changed: ``(course_id, person_id)`` pairs."""
    _changes(session).learners.update(pairs)


def learner_changed(session: Session, course_id: int, person_id: int) -> None:
    """What one learner's panel in one course shows changed."""
    _changes(session).learners.add((course_id, person_id))


def people_changed(session: Session, person_ids: Iterable[int]) -> None:
    """What these people's panels show changed in every course of theirs (their language,
    time zone)."""
    _changes(session).people.update(person_ids)


def courses_changed(session: Session, course_ids: Iterable[int]) -> None:
    """What every learner of these courses sees changed."""
    _changes(session).courses.update(course_ids)


def member_courses_changed(session: Session, person_id: int) -> None:
    """Something every course of this person shows of them changed (a mentor's profile)."""
    courses = session.scalars(select(_e.c.course_id).where(_e.c.person_id == person_id))
    courses_changed(session, courses)


@event.listens_for(Session, "before_commit")
def _move_versions(session: Session) -> None:
    changes: _Changes | None = session.info.pop(_PENDING, None)
    if changes is None:
        return
    learners = [{"course": c, "person": p} for c, p in sorted(changes.learners)]
    for statement, rows in (
        (_LEARNER, learners),
        (_PERSON, [{"person": p} for p in sorted(changes.people)]),
        (_COURSE, [{"course": c} for c in sorted(changes.courses)]),
    ):
        if rows:
            session.execute(statement, rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)
