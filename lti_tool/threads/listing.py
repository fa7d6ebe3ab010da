"""What the panel and the console list: a learner's own threads, a mentor's inbox, and a
post's body made safe to show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup, escape
from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.members import STAFF
from lti_tool.courses.models import Enrollment, EnrollmentStatus
from lti_tool.threads.models import Post, Thread, ThreadStatus


@dataclass(frozen=True)
class Listed:
    """A thread in a list, with how long it has waited for a mentor (none unless waiting)."""

    thread: Thread
    waiting_for: timedelta | None


# Built once: every panel view runs it.
_FOR_LEARNER = (
    select(Thread)
    .where(Thread.course_id == bindparam("course_id"), Thread.learner_id == bindparam("learner_id"))
    .order_by(Thread.opened_at.desc(), Thread.id.desc())
)


def for_learner(session: Session, course_id: int, learner_id: int) -> list[Listed]:
    """The learner's own threads in the course, newest first; nobody else's."""
    params = {"course_id": course_id, "learner_id": learner_id}
    return _listed(session.scalars(_FOR_LEARNER, params).all())


def for_mentor(session: Session, mentor_id: int, course_id: int | None = None) -> list[Listed]:
    """The mentor's inbox: threads addressed to them, and unaddressed threads of the courses
    they look after (active mentor, instructor or administrator); waiting ones first, the
    longest waiting first. ``course_id`` limits it to one course."""
    their_courses = select(Enrollment.course_id).where(
        Enrollment.person_id == mentor_id,
        Enrollment.status == EnrollmentStatus.ACTIVE,
        Enrollment.role.in_(list(STAFF)),
    )
    query = select(Thread).where(
        or_(
            Thread.mentor_id == mentor_id,
            Thread.mentor_id.is_(None) & Thread.course_id.in_(their_courses),
        )
    )
    if course_id is not None:
        query = query.where(Thread.course_id == course_id)
    waiting_first = case((Thread.status == ThreadStatus.WAITING, 0), else_=1)
    query = query.order_by(waiting_first, Thread.last_learner_post_at, Thread.id)
    return _listed(session.scalars(query).all())


def unread_count(session: Session, course_id: int, learner_id: int) -> int:
    """How many of the learner's threads have a mentor reply they have not read."""
    counted = session.scalar(
        select(func.count()).where(
            Thread.course_id == course_id,
            Thread.learner_id == learner_id,
            Thread.learner_unread_at.is_not(None),
        )
    )
    return int(counted or 0)


def body_html(post: Post) -> Markup:
    """A post's body for a page: escaped, line breaks kept (no markup is ever interpreted)."""
    return Markup("<br>\n").join(escape(line) for line in post.body.splitlines())


def _listed(threads: Sequence[Thread]) -> list[Listed]:
    now = clock.now()
    return [
        Listed(t, now - t.last_learner_post_at if t.status is ThreadStatus.WAITING else None)
        for t in threads
    ]
