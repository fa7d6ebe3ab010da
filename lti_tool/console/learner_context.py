"""What a mentor sees beside a learner's question: their progress in the course, their
journeys there and their last answers. Every query is scoped by course and learner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.events.models import LearningEvent
from lti_tool.i18n import _
from lti_tool.mentoring import feed
from lti_tool.mentoring.models import Delivery, Journey, JourneyStatus, Response, Sequence

#: How many of the learner's answers are shown, newest first.
LAST_ANSWERS = 5


@dataclass(frozen=True)
class Progress:
    """The learner's learning events in the course."""

    events: int
    completions: int
    last_activity: datetime | None


@dataclass(frozen=True)
class JourneyLine:
    """One of the learner's journeys in the course."""

    sequence: str
    active: bool
    started_at: datetime
    stopped_at: datetime | None
    stop_reason: str


@dataclass(frozen=True)
class AnswerLine:
    """One of the learner's answers to a mentor's message."""

    message: str
    answer: str
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class LearnerContext:
    """Everything the thread page shows about the learner."""

    progress: Progress
    journeys: list[JourneyLine]
    answers: list[AnswerLine]


def learner_context(session: Session, course_id: int, learner_id: int) -> LearnerContext:
    """The learner's progress, journeys and last answers in this course (nothing of others)."""
    return LearnerContext(
        progress(session, course_id, learner_id),
        journeys(session, course_id, learner_id),
        last_answers(session, course_id, learner_id),
    )


def progress(session: Session, course_id: int, learner_id: int) -> Progress:
    """How many learning events and completions the learner has in the course, and when the
    last one happened."""
    events, completions, last = session.execute(
        select(
            func.count(LearningEvent.id),
            func.count(LearningEvent.id).filter(LearningEvent.completion.is_(True)),
            func.max(LearningEvent.occurred_at),
        ).where(LearningEvent.course_id == course_id, LearningEvent.person_id == learner_id)
    ).one()
    return Progress(int(events or 0), int(completions or 0), last)


def journeys(session: Session, course_id: int, learner_id: int) -> list[JourneyLine]:
    """The learner's journeys in the course, the latest started first."""
    rows = session.execute(
        select(Journey, Sequence.name)
        .join(Sequence, Sequence.id == Journey.sequence_id)
        .where(Journey.course_id == course_id, Journey.person_id == learner_id)
        .order_by(Journey.started_at.desc(), Journey.id.desc())
    ).all()
    return [
        JourneyLine(name, j.status is JourneyStatus.ACTIVE, j.started_at, j.stopped_at,
                    j.stop_reason)
        for j, name in rows
    ]  # fmt: skip


def last_answers(session: Session, course_id: int, learner_id: int) -> list[AnswerLine]:
    """The learner's newest answers in the course, with the message as they saw it."""
    rows = session.execute(
        select(Response.delivery_id, Response.answered_at)
        .join(Delivery, Delivery.id == Response.delivery_id)
        .where(Delivery.course_id == course_id, Delivery.person_id == learner_id)
        .order_by(Response.answered_at.desc(), Response.id.desc())
        .limit(LAST_ANSWERS)
    ).all()
    items = feed.items(session, [row[0] for row in rows])
    return [_answer(items[delivery_id], at) for delivery_id, at in rows if delivery_id in items]


def _answer(item: feed.FeedItem, at: datetime) -> AnswerLine:
    answer = _("Answered the survey") if item.kind == "survey" else item.answer_label or ""
    return AnswerLine(item.title, answer, item.answer_text, at)
