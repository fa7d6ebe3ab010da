"""A learner's timeline: every journey and delivery with its reason, so "why did I get
this?" and "why didn't I?" have an answer in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    Message,
    Sequence,
    Step,
)


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    what: str
    status: str
    reason: str
    delivery_id: int | None = None


def timeline(session: Session, course_id: int, person_id: int) -> list[Entry]:
    """What happened and what is planned for the learner in the course, oldest first."""
    entries: list[Entry] = []
    for journey, name in session.execute(
        select(Journey, Sequence.name).join(Sequence, Sequence.id == Journey.sequence_id)
        .where(Journey.course_id == course_id, Journey.person_id == person_id)
    ):  # fmt: skip
        entries.append(Entry(journey.started_at, f"Follow-up “{name}” began", "started",
                             journey.start_reason))  # fmt: skip
        if journey.stopped_at is not None:
            entries.append(Entry(journey.stopped_at, f"Follow-up “{name}” ended", "stopped",
                                 journey.stop_reason))  # fmt: skip
    for delivery, title, key in session.execute(
        select(Delivery, Message.title, Step.key)
        .join(Message, Message.id == Delivery.message_id)
        .join(Step, Step.id == Delivery.step_id)
        .where(Delivery.course_id == course_id, Delivery.person_id == person_id)
    ):  # fmt: skip
        at = delivery.delivered_at or delivery.due_at
        round_ = f" (asked again, {delivery.round + 1})" if delivery.round else ""
        entries.append(Entry(at, f"“{title}” ({key}){round_}", str(delivery.status),
                             delivery.reason, delivery.id))  # fmt: skip
    entries.sort(key=lambda entry: (entry.at, entry.delivery_id or 0))
    return entries


@dataclass(frozen=True)
class Story:
    """Why one delivery reached (or did not reach) the learner, in words."""

    follow_up: str
    start_reason: str
    status: str
    reason: str
    #: What happened to it, oldest first (its journey's start included).
    entries: list[Entry]


_STATUS_WORDS = {
    DeliveryStatus.SCHEDULED: "Planned", DeliveryStatus.HELD: "Held back for now",
    DeliveryStatus.DELIVERED: "Delivered", DeliveryStatus.SKIPPED: "Not sent",
    DeliveryStatus.FAILED: "Could not be sent",
}  # fmt: skip


def delivery_story(
    session: Session, course_id: int, person_id: int, delivery_id: int
) -> Story | None:
    """One of the learner's deliveries in the course with its journey's start reason, its own
    reason and what happened when; none if it is not theirs (or does not exist). Only the
    latest reason is stored, so earlier holds show as the time it was due."""
    row = session.execute(
        select(Delivery, Journey, Sequence.name)
        .join(Journey, Journey.id == Delivery.journey_id)
        .join(Sequence, Sequence.id == Journey.sequence_id)
        .where(Delivery.id == delivery_id, Delivery.course_id == course_id,
               Delivery.person_id == person_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    delivery, journey, name = row
    status = _STATUS_WORDS.get(delivery.status, str(delivery.status))
    entries = [Entry(journey.started_at, f"Follow-up “{name}” began", "started",
                     journey.start_reason)]  # fmt: skip
    # The stored reason is already a sentence ("Held until …", "Not sent: …", "Delivered …").
    entries.append(Entry(delivery.delivered_at or delivery.due_at, delivery.reason or status,
                         str(delivery.status), ""))  # fmt: skip
    if delivery.read_at is not None:
        entries.append(Entry(delivery.read_at, "You first saw it.", "read", ""))
    return Story(name, journey.start_reason, status, delivery.reason, entries)
