"""A learner's timeline: every journey and delivery with its reason, so "why did I get
this?" and "why didn't I?" have an answer in words, in the language of the page (reasons are
stored in English: ``i18n.reason`` translates them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.i18n import _, lazy_gettext, reason
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
        entries.append(_began(journey, name))
        if journey.stopped_at is not None:
            entries.append(Entry(journey.stopped_at, _("Follow-up “%(name)s” ended", name=name),
                                 "stopped", reason(journey.stop_reason)))  # fmt: skip
    for delivery, title, key in session.execute(
        select(Delivery, Message.title, Step.key)
        .join(Message, Message.id == Delivery.message_id)
        .join(Step, Step.id == Delivery.step_id)
        .where(Delivery.course_id == course_id, Delivery.person_id == person_id)
    ):  # fmt: skip
        at = delivery.delivered_at or delivery.due_at
        what = (_("“%(title)s” (%(step)s) (asked again, %(round)s)", title=title, step=key,
                  round=delivery.round + 1) if delivery.round
                else _("“%(title)s” (%(step)s)", title=title, step=key))  # fmt: skip
        entries.append(Entry(at, what, str(delivery.status), reason(delivery.reason), delivery.id))
    entries.sort(key=lambda entry: (entry.at, entry.delivery_id or 0))
    return entries


def _began(journey: Journey, name: str) -> Entry:
    return Entry(journey.started_at, _("Follow-up “%(name)s” began", name=name), "started",
                 reason(journey.start_reason))  # fmt: skip


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
    DeliveryStatus.SCHEDULED: lazy_gettext("Planned"),
    DeliveryStatus.HELD: lazy_gettext("Held back for now"),
    DeliveryStatus.DELIVERED: lazy_gettext("Delivered"),
    DeliveryStatus.SKIPPED: lazy_gettext("Not sent"),
    DeliveryStatus.FAILED: lazy_gettext("Could not be sent"),
}


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
    status = str(_STATUS_WORDS.get(delivery.status, delivery.status))
    said = reason(delivery.reason)
    entries = [_began(journey, name)]
    # The stored reason is already a sentence ("Held until …", "Not sent: …", "Delivered …").
    entries.append(Entry(delivery.delivered_at or delivery.due_at, said or status,
                         str(delivery.status), ""))  # fmt: skip
    if delivery.read_at is not None:
        entries.append(Entry(delivery.read_at, _("You first saw it."), "read", ""))
    return Story(name, reason(journey.start_reason), status, said, entries)
