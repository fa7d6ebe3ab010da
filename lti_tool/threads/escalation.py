"""Questions that wait too long go to more people: the course's instructors and its other
mentors, once per thread, with the reason in words, and by email after commit
(``notify``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.members import active_people
from lti_tool.courses.models import Role
from lti_tool.mentoring import reasons
from lti_tool.threads import notify
from lti_tool.threads.models import Thread, ThreadStatus

log = logging.getLogger(__name__)
#: Threads escalated per run; the next run takes the rest.
BATCH = 500


def escalate_due(session: Session, hours: float | None = None) -> int:
    """Escalate every thread that has waited for a mentor longer than ``hours``
    (VM_THREADS_ESCALATE_HOURS); how many. Safe to run twice and on many workers at once:
    a thread is escalated once, and concurrent runs skip each other's rows."""
    if hours is None:
        hours = float(current_app.config["THREADS_ESCALATE_HOURS"])
    now = clock.now()
    due = session.scalars(
        select(Thread)
        .where(
            Thread.status == ThreadStatus.WAITING,
            Thread.escalated_at.is_(None),
            Thread.last_learner_post_at <= now - timedelta(hours=hours),
        )
        .order_by(Thread.last_learner_post_at, Thread.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for thread in due:
        people = active_people(session, thread.course_id, (Role.INSTRUCTOR, Role.MENTOR))
        thread.escalated_to = [p for p in people if p != thread.mentor_id]
        thread.escalated_at = now
        thread.escalation_reason = _reason(thread, hours)
        notify.queue_escalation(session, thread)
    session.commit()
    if due:
        log.info("Escalated %d unanswered questions", len(due))
    return len(due)


def _reason(thread: Thread, hours: float) -> str:
    since = thread.last_learner_post_at.strftime("%Y-%m-%d %H:%M UTC")
    template = reasons.UNANSWERED_BY_MENTOR if thread.mentor_id else reasons.UNANSWERED
    return reasons.write(template, hours=f"{hours:g}", since=since)
