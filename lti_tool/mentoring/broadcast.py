"""A mentor's broadcast: one sequence (a welcome, an announcement) started for every active
learner of a course at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Enrollment, EnrollmentStatus, Role
from lti_tool.mentoring import journeys, reasons

CHUNK = 5000


def broadcast(session: Session, course_id: int, sequence_id: int, *, by: str = "") -> int:
    """Start the sequence for the course's active learners who are not on it yet; how many."""
    learners = list(session.scalars(
        select(Enrollment.person_id).where(
            Enrollment.course_id == course_id, Enrollment.role == Role.LEARNER,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        ).order_by(Enrollment.person_id)
    ))  # fmt: skip
    why = reasons.write(reasons.BROADCAST, by=by) if by else reasons.BROADCAST_BY_MENTOR
    started = 0
    for at in range(0, len(learners), CHUNK):
        chunk = learners[at : at + CHUNK]
        starts = [journeys.Start(sequence_id, course_id, person, why) for person in chunk]
        started += len(journeys.start(session, starts))
    return started
