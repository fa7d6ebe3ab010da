"""The console's question inbox: a course's threads for one mentor, in the order they need
an answer, with how long each has waited in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Person
from lti_tool.errors import NotFound
from lti_tool.i18n import _, ngettext
from lti_tool.threads import listing, services
from lti_tool.threads.models import AuthorRole, Thread, ThreadStatus


@dataclass(frozen=True)
class InboxRow:
    """A thread as the inbox lists it."""

    thread: Thread
    learner: str
    #: "waiting 26 hours", "answered 3 days ago", "closed".
    age: str

    @property
    def unanswered(self) -> bool:
        """The learner spoke last: a mentor owes an answer."""
        return self.thread.status is ThreadStatus.WAITING

    @property
    def escalated(self) -> bool:
        """It waited too long and went to more people."""
        return self.thread.escalated_at is not None


def inbox(session: Session, course_id: int, person_id: int) -> list[InboxRow]:
    """The course's threads for this mentor: addressed to them, to the course's mentors, or
    escalated to them; unanswered first, the longest waiting first. Only this course's."""
    listed = listing.for_mentor(session, person_id, course_id)
    seen = {row.thread.id for row in listed}
    # Who a thread went to is a JSON list: read the course's escalated ones, keep theirs.
    escalated = session.scalars(
        select(Thread).where(Thread.course_id == course_id, Thread.escalated_at.is_not(None))
    ).all()
    threads = [row.thread for row in listed] + [
        t for t in escalated if t.id not in seen and person_id in (t.escalated_to or [])
    ]
    threads.sort(key=lambda t: (t.status is not ThreadStatus.WAITING, t.last_learner_post_at, t.id))
    names = learner_names(session, {t.learner_id for t in threads})
    return [InboxRow(t, names.get(t.learner_id, _("Learner")), age(t)) for t in threads]


def unanswered(session: Session, course_id: int, person_id: int) -> int:
    """How many of the mentor's inbox threads in the course wait for an answer."""
    return sum(row.unanswered for row in inbox(session, course_id, person_id))


def of_course(session: Session, course_id: int, thread_id: int, person_id: int) -> Thread:
    """The thread, if it belongs to this course and the person answers for it; else
    ``NotFound`` (another course's thread is not said to exist)."""
    thread = session.get(Thread, thread_id)
    if thread is None or thread.course_id != course_id:
        raise NotFound(_("There is no such question in this course."))
    if services.side_of(session, thread, person_id) is not AuthorRole.MENTOR:
        raise NotFound(_("There is no such question in this course."))
    return thread


def learner_names(session: Session, person_ids: set[int]) -> dict[int, str]:
    """Display names by person id."""
    if not person_ids:
        return {}
    people = session.scalars(select(Person).where(Person.id.in_(person_ids)))
    return {p.id: p.display_name for p in people}


def age(thread: Thread) -> str:
    """How long a thread has waited, or since it was answered, in words."""
    now = clock.now()
    if thread.status is ThreadStatus.WAITING:
        return _("waiting %(age)s", age=in_words(now - thread.last_learner_post_at))
    if thread.status is ThreadStatus.ANSWERED and thread.answered_at is not None:
        return _("answered %(age)s ago", age=in_words(now - thread.answered_at))
    return _("closed")


def in_words(delta: timedelta) -> str:
    """A duration as a person says it: minutes under an hour, hours under two days, then
    days (rounded down)."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return _("less than a minute")
    if seconds < 3600:
        return ngettext("%(num)s minute", "%(num)s minutes", seconds // 60)
    if seconds < 48 * 3600:
        return ngettext("%(num)s hour", "%(num)s hours", seconds // 3600)
    return ngettext("%(num)s day", "%(num)s days", seconds // 86400)
