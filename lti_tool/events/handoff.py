"""Handing learning events to the mentoring engine, once they are committed.

The events table is the queue: an event is waiting while ``handed_off_at`` is empty, so a
lost task or a broker outage delays an event but never loses it. An event is handed off
once its learner is known (an unresolved one waits for ``resolve_actors``). Handing off a
batch maps each event to its topic (``lti_tool.topics``), gives the batch to every
registered consumer (the engine's rule matching) and marks it handed, in one
transaction: a consumer that fails rolls the batch back to be handed again.

Recording new events wakes the hand-off task after commit. A process sends at most one
wake-up per ``WAKE_DELAY``: the task is sent to start ``WAKE_DELAY`` later, so events
committed before then are seen by it, and a stream of single statements does not send a
task each. Beat's sweep runs the same task every ``VM_JOBS_HANDOFF_SECONDS`` (30) for anything
missed.
Batches are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of
workers can hand off at once without handing an event twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.events.models import LearningEvent
from lti_tool.jobs import Waker
from lti_tool.topics import mapping

#: A wake-up starts this long after it is sent; commits in between ride on it.
WAKE_DELAY = 0.05
BATCH = 1000
TASK = "events.hand_off"
_EVENTS = cast(Table, LearningEvent.__table__)
_WAITING = (
    select(
        _EVENTS.c.id, _EVENTS.c.registration_id, _EVENTS.c.course_id, _EVENTS.c.person_id,
        _EVENTS.c.topic_id, _EVENTS.c.verb, _EVENTS.c.activity_id, _EVENTS.c.completion,
        _EVENTS.c.success, _EVENTS.c.score_scaled, _EVENTS.c.occurred_at, _EVENTS.c.source,
    )
    .where(_EVENTS.c.handed_off_at.is_(None), _EVENTS.c.person_id.is_not(None))
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)  # fmt: skip
_HANDED = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event_id"))
    .values(topic_id=bindparam("found_topic"), handed_off_at=bindparam("now"))
)


@dataclass(frozen=True)
class HandedEvent:
    """A learning event as the engine receives it: resolved, with its topic if it has one."""

    id: int
    registration_id: int
    course_id: int | None
    person_id: int
    topic_id: int | None
    verb: str
    activity_id: str
    completion: bool | None
    success: bool | None
    score_scaled: float | None
    occurred_at: datetime
    source: str


Consumer = Callable[[Session, Sequence[HandedEvent]], None]
#: Who receives handed-off events, in order (the mentoring engine registers itself).
CONSUMERS: list[Consumer] = []


def register(consumer: Consumer) -> Consumer:
    """Give ``consumer`` every handed-off batch, inside the transaction that marks it handed.

    It must not commit; raising rolls the batch back, to be handed again later.
    """
    if consumer not in CONSUMERS:
        CONSUMERS.append(consumer)
    return consumer


#: Wakes the hand-off task after commits that recorded (or resolved) events.
WAKER = Waker(TASK, WAKE_DELAY)


def wake_after_commit() -> None:
    """Have the hand-off run soon after the current transaction commits."""
    WAKER.after_commit()


def hand_off(
    session: Session, *, batch: int = BATCH, consumers: Sequence[Consumer] | None = None
) -> int:
    """Hand every waiting event to the consumers (the registered ones unless given), a
    batch per transaction; how many."""
    handed = 0
    while True:
        rows = session.execute(_WAITING, {"limit": batch}).all()
        if not rows:
            session.commit()
            return handed
        maps = mapping.load(session, {row.registration_id for row in rows})
        events = [_handed(row, maps.get(row.registration_id)) for row in rows]
        now = clock.now()
        session.connection().execute(_HANDED, [
            {"event_id": event.id, "found_topic": event.topic_id, "now": now} for event in events
        ])  # fmt: skip
        try:
            for consumer in CONSUMERS if consumers is None else consumers:
                consumer(session, events)
        except Exception:
            session.rollback()  # the batch waits to be handed again
            raise
        session.commit()
        handed += len(events)
        if len(rows) < batch:
            return handed


def _handed(row: Any, topics: mapping.TopicMap | None) -> HandedEvent:
    topic_id = row.topic_id
    if topic_id is None and topics is not None:
        topic_id = topics.topic_for(row.activity_id, row.course_id)
    return HandedEvent(
        id=row.id, registration_id=row.registration_id, course_id=row.course_id,
        person_id=row.person_id, topic_id=topic_id, verb=row.verb, activity_id=row.activity_id,
        completion=row.completion, success=row.success, score_scaled=row.score_scaled,
        occurred_at=row.occurred_at, source=str(row.source),
    )  # fmt: skip
