"""A learner's answer to a delivered question or survey: recorded once, emitted as xAPI in
the same transaction, and followed by the step's branches (send a step now or later, ask
again, escalate to the human mentor, stop the journey)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import freshness
from lti_tool.courses.models import Course, Person
from lti_tool.database import insert_new
from lti_tool.errors import AppError, NotFound
from lti_tool.i18n import _
from lti_tool.mentoring import journeys, reasons, surveys
from lti_tool.mentoring.feed import FeedItem, items
from lti_tool.mentoring.models import Delivery as DeliveryRow
from lti_tool.mentoring.models import (
    Journey,
    JourneyStatus,
    MessageKind,
    Response,
    Step,
)
from xapi import builders, outbox

_RESPONSES = cast(Table, Response.__table__)


class NotAnAnswer(AppError):
    """The answer is not one the question offers."""


@dataclass(frozen=True)
class Escalation:
    """A learner asked for their human mentor, with what they were answering."""

    delivery_id: int
    course_id: int
    person_id: int
    mentor_id: int | None
    question: str
    answer: str
    text: str
    topic: str
    #: The answer as the learner read it ("I need help").
    label: str = ""


#: Called with every escalation, in the answer's transaction (threads open one here).
ESCALATIONS: list[Callable[[Session, Escalation], None]] = []


def on_escalation(hook: Callable[[Session, Escalation], None]) -> None:
    """Call ``hook`` with every escalation, in the answer's transaction (it must not commit);
    registering it again changes nothing."""
    if hook not in ESCALATIONS:
        ESCALATIONS.append(hook)


@dataclass(frozen=True)
class Recorded:
    """The answer as stored (the first one, if the delivery was answered before)."""

    response: Response
    new: bool
    item: FeedItem


def record(
    session: Session, delivery_id: int, answer: str, *, via: str, text: str = "",
    person_id: int | None = None,
) -> Recorded:  # fmt: skip
    """Record the learner's answer once and act on it; a second answer changes nothing.

    ``person_id``, when given, must be the delivery's learner (the panel's check).
    """
    item = _answerable(session, delivery_id, person_id)
    if item.answer is not None:
        return Recorded(_response(session, delivery_id), False, item)
    if item.kind in (MessageKind.SURVEY, MessageKind.SESSION):
        raise NotAnAnswer(_("“%(title)s” is not answered with one choice: open it in your "
                            "mentor panel.", title=item.title))  # fmt: skip
    label = next((c.get("label", answer) for c in item.choices if c.get("key") == answer), None)
    if label is None:
        raise NotAnAnswer(_("“%(answer)s” is not one of this question's answers.", answer=answer))
    return _store(session, item, answer, label, via, text=text.strip()[:4000])


def record_survey(
    session: Session, delivery_id: int, form: Mapping[str, str], *, via: str,
    person_id: int | None = None,
) -> Recorded:  # fmt: skip
    """Record the learner's answers to a survey once (``IncompleteSurvey`` if an item is
    left out or answered with something it does not offer; nothing is stored then)."""
    item = _answerable(session, delivery_id, person_id)
    if item.kind != MessageKind.SURVEY:
        raise NotAnAnswer(_("“%(title)s” is not a survey.", title=item.title))
    if item.answer is not None:
        return Recorded(_response(session, delivery_id), False, item)
    questions = surveys.items_of(item.details)
    given = surveys.read(questions, form)
    return _store(session, item, SUBMITTED, surveys.summary(questions, given), via,
                  answers=given)  # fmt: skip


#: A survey's response key (its step's branches may act on it).
SUBMITTED = "submitted"


def _answerable(session: Session, delivery_id: int, person_id: int | None) -> FeedItem:
    item = items(session, [delivery_id]).get(delivery_id)
    if item is None or (person_id is not None and item.person_id != person_id):
        raise NotFound(_("There is no such message to answer."))
    return item


def _store(
    session: Session, item: FeedItem, answer: str, label: str, via: str, *, text: str = "",
    answers: Mapping[str, Any] | None = None,
) -> Recorded:  # fmt: skip
    now = clock.now()
    row = {"delivery_id": item.delivery_id, "answer": answer, "text": text, "via": via,
           "escalated": False, "answered_at": now, "answers": dict(answers or {})}  # fmt: skip
    if not insert_new(session, _RESPONSES, [row], keys=["delivery_id"], returning="id"):
        return Recorded(_response(session, item.delivery_id), False, item)  # answered meanwhile
    response = _response(session, item.delivery_id)
    freshness.learner_changed(session, item.course_id, item.person_id)
    _emit(session, item, response, label, now)
    _follow_branches(session, item, response, label, now)
    return Recorded(response, True, item)


def _response(session: Session, delivery_id: int) -> Response:
    return session.execute(select(Response).where(Response.delivery_id == delivery_id)).scalar_one()


def _emit(session: Session, item: FeedItem, response: Response, label: str, at: datetime) -> None:
    person = session.get_one(Person, item.person_id)
    course = session.get_one(Course, item.course_id)
    scene = builders.Scene.of(outbox.tool_url(), person.registration, person, course)
    if item.kind == MessageKind.SURVEY:
        statement = builders.responded_to_survey(
            scene, survey_id=item.delivery_id, response_id=response.id, title=item.title,
            answer=label, at=at,
        )  # fmt: skip
    else:
        statement = builders.answered_check_in(
            scene, delivery_id=item.delivery_id, answer_id=response.id, question=item.title,
            answer=label, at=at,
        )  # fmt: skip
    outbox.emit(session, person.registration_id, statement)


def _follow_branches(
    session: Session, item: FeedItem, response: Response, label: str, now: datetime
) -> None:
    delivery = session.get_one(DeliveryRow, item.delivery_id)
    journey = session.get_one(Journey, delivery.journey_id)
    if journey.status != JourneyStatus.ACTIVE:
        return
    step = session.get_one(Step, delivery.step_id)
    rows: list[dict[str, object]] = []
    for action in step.branches.get(response.answer, []):
        what = action.get("do")
        due = now + timedelta(seconds=int(action.get("after_seconds", 0)))
        if what == "send":
            target = _step(session, step.sequence_id, str(action.get("step")))
            why = reasons.write(reasons.SENT_BECAUSE, answer=label, title=item.title)
            rows.append(_row(journey, target, due, delivery.round, why))
        elif what == "repeat":
            why = reasons.write(reasons.ASKED_AGAIN, answer=label)
            rows.append(_row(journey, step, due, delivery.round + 1, why))
        elif what == "escalate":
            response.escalated = True
            _escalate(session, item, delivery.mentor_id, response, label)
        elif what == "stop":
            journeys.stop(session, [journey.id],
                          reasons.write(reasons.STOPPED_ANSWERED, answer=label),
                          reasons.write(reasons.SKIPPED_ANSWERED, answer=label))  # fmt: skip
    journeys.add_deliveries(session, rows, now)


def _step(session: Session, sequence_id: int, key: str) -> Step:
    step = session.scalar(select(Step).where(Step.sequence_id == sequence_id, Step.key == key))
    if step is None:
        raise NotFound(_("The sequence has no step “%(key)s”.", key=key))
    return step


def _row(journey: Journey, step: Step, due: datetime, round_: int, why: str) -> dict[str, Any]:
    info = journeys.StepInfo(step.id, step.sequence_id, "", step.key, step.message_id,
                             step.offset_seconds)  # fmt: skip
    return journeys.delivery_row(journey, info, due, round_, why)


def _escalate(
    session: Session, item: FeedItem, mentor_id: int | None, response: Response, label: str
) -> None:
    escalation = Escalation(
        delivery_id=item.delivery_id, course_id=item.course_id, person_id=item.person_id,
        mentor_id=mentor_id, question=item.title, answer=response.answer, text=response.text,
        topic=item.topic, label=label,
    )  # fmt: skip
    for hook in ESCALATIONS:
        hook(session, escalation)
