"""Reminders of sessions: the one a mentor sends by hand ("Remind those going", once a day)
and the automatic one, VM_MENTORING_SESSION_REMINDER_HOURS before each session starts.

Either is a one-step plan (an announcement) of its own, found again by its name, and each
reminded learner is a journey on it. A journey is unique per (sequence, course, learner), so
however many workers and beats run the sweep at once, each learner gets the automatic
reminder once: the plan itself is created under a lock on the session's message row (as
RSVPs are), so two sweeps find one plan.

The automatic reminder goes to those going and those who said maybe, through the dispatcher
like every message (their opt-outs, quiet hours and daily cap apply). Someone who answers
"going" (or "maybe", or gets a place from the waiting list) after the reminder time but
before the start is reminded at once; someone who says they cannot come before their
reminder went out (it was held for quiet hours, say) does not get it. Nothing is started for
a session that has begun, and a reminder still held when it begins is skipped by the next
sweep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.mentoring import journeys, meetings, plans, reasons
from lti_tool.mentoring.models import (
    Delivery,
    Journey,
    JourneyStatus,
    Message,
    MessageKind,
    Rsvp,
    RsvpAnswer,
    Sequence,
)

#: The beat task's name.
TASK = "mentoring.session_reminders"
#: Answers that get the automatic reminder, with what its reason tells the learner.
REMINDED = {RsvpAnswer.GOING: reasons.AUTO_REMINDED_GOING,
            RsvpAnswer.MAYBE: reasons.AUTO_REMINDED_MAYBE}  # fmt: skip
#: How long after a session began the sweep still skips its held reminders.
_EXPIRY_SLACK = timedelta(days=2)


def automatic_name(message_id: int) -> str:
    """The name of a session's automatic reminder plan."""
    return f"Automatic reminder of session {message_id}"


def find_plan(session: Session, registration_id: int, course_id: int, name: str) -> Sequence | None:
    """The course's reminder plan called ``name``, if one was made."""
    return session.scalar(select(Sequence).where(
        Sequence.registration_id == registration_id, Sequence.course_id == course_id,
        Sequence.name == name,
    ).order_by(Sequence.id).limit(1))  # fmt: skip


def plan(
    session: Session, course_id: int, message: Message, meeting: meetings.Meeting, name: str
) -> Sequence:
    """The course's reminder plan ``name`` of the session, made the first time: one
    announcement saying when and where. The caller holds the session's message row."""
    found = find_plan(session, message.registration_id, course_id, name)
    if found is not None:
        return found
    where = [f"**When:** {meeting.when()}"]
    if meeting.place:
        where.append(f"**Where:** {meeting.place}")
    if meeting.url:
        where.append(f"**Join:** <{meeting.url}>")
    sequence, _rules = plans.store(session, message.registration_id, {
        "name": name,
        "steps": [{"key": "remind", "offset_seconds": 0, "message": {
            "kind": "announcement", "title": f"Reminder: {message.title}",
            "body": "\n\n".join(where)}}],
    }, course_id, purpose="reminder")  # fmt: skip
    return sequence


def lock(session: Session, message_id: int) -> None:
    """Serialise reminders and RSVPs of one session on its message row (PostgreSQL; SQLite
    writes one at a time already)."""
    session.execute(select(Message.id).where(Message.id == message_id).with_for_update())


def lead_time() -> timedelta | None:
    """How long before a session the automatic reminder goes; none: switched off."""
    hours = int(current_app.config["MENTORING_SESSION_REMINDER_HOURS"])
    return timedelta(hours=hours) if hours > 0 else None


def sweep(session: Session) -> int:
    """Remind those going to (or maybe at) the sessions starting within the lead time, and
    skip the reminders still held for sessions that have begun; how many were reminded.
    Safe to run any number of times at once."""
    lead = lead_time()
    if lead is None:
        return 0
    reminded = 0
    for message, meeting in _answered_sessions(session):
        now = clock.now()
        if meeting.started(now):
            if now - meeting.starts_at < _EXPIRY_SLACK:
                _skip_held(session, message, reasons.STOPPED_BEGAN, reasons.SKIPPED_BEGAN)
        elif now >= meeting.starts_at - lead:
            reminded += remind(session, message, meeting, now)
        session.commit()
    return reminded


def _answered_sessions(session: Session) -> list[tuple[Message, meetings.Meeting]]:
    """Sessions someone is going to (or might go to), with their time; not those that began
    long before the sweep's slack (so the sweep does not grow with every past session)."""
    answered = select(Rsvp.message_id).where(Rsvp.answer.in_(REMINDED))
    # starts_at is stored in the session's own zone: its date is at most a day off UTC's.
    since = (clock.now() - _EXPIRY_SLACK - timedelta(days=1)).date().isoformat()
    local_day = func.substr(Message.details["starts_at"].as_string(), 1, 10)
    found = []
    for message in session.scalars(select(Message).where(
        Message.kind == MessageKind.SESSION, Message.id.in_(answered), local_day >= since
    ).order_by(Message.id)):  # fmt: skip
        meeting = meetings.Meeting.of(message.details or {})
        if meeting is not None:
            found.append((message, meeting))
    return found


def remind(
    session: Session,
    message: Message,
    meeting: meetings.Meeting,
    now: datetime,
    only: Iterable[int] | None = None,
) -> int:
    """Start the automatic reminder for those going to the session or maybe there (or only
    ``only`` of them) not reminded yet; how many were new."""
    query = select(Rsvp.course_id, Rsvp.person_id, Rsvp.answer).where(
        Rsvp.message_id == message.id, Rsvp.answer.in_(REMINDED),
        ~Rsvp.person_id.in_(
            select(Journey.person_id).join(Sequence, Sequence.id == Journey.sequence_id)
            .where(Sequence.name == automatic_name(message.id),
                   Journey.course_id == Rsvp.course_id)
        ),
    ).order_by(Rsvp.person_id)  # fmt: skip
    if only is not None:
        query = query.where(Rsvp.person_id.in_(list(only)))
    if session.execute(query.limit(1)).first() is None:
        return 0  # everyone is reminded already: the sweep's usual case, with no lock or write
    lock(session, message.id)  # then read again: a racing sweep may have reminded them since
    by_course: dict[int, list[tuple[int, str]]] = {}
    hours = max(round((meeting.starts_at - now).total_seconds() / 3600), 0)
    for course_id, person_id, answer in session.execute(query):
        said = REMINDED[answer or RsvpAnswer.GOING]  # the query reads going and maybe only
        why = reasons.write(said, hours=hours, title=message.title)
        by_course.setdefault(course_id, []).append((person_id, why))
    new = 0
    for course_id, people in by_course.items():
        sequence = plan(session, course_id, message, meeting, automatic_name(message.id))
        starts = [journeys.Start(sequence.id, course_id, person, why) for person, why in people]
        new += len(journeys.start(session, starts, now=now))
    return new


def answered(session: Session, message: Message, meeting: meetings.Meeting, row: Rsvp) -> None:
    """A learner's answer changed: remind them at once if the reminder time has passed and
    they are going (or maybe); skip their reminder not yet sent if they no longer are."""
    lead = lead_time()
    if lead is None:
        return
    now = clock.now()
    if row.answer in REMINDED:
        if meeting.starts_at - lead <= now < meeting.starts_at:
            remind(session, message, meeting, now, only=[row.person_id])
        return
    _skip_held(session, message, reasons.STOPPED_NOT_GOING, reasons.SKIPPED_NOT_GOING,
               person_id=row.person_id)  # fmt: skip


def _skip_held(
    session: Session, message: Message, stopped: str, skipped: str, person_id: int | None = None
) -> None:
    """Stop the session's automatic reminders still waiting to go (all, or one learner's)."""
    query = (
        select(Journey.id)
        .join(Sequence, Sequence.id == Journey.sequence_id)
        .join(Delivery, Delivery.journey_id == Journey.id)
        .where(Sequence.name == automatic_name(message.id),
               Journey.status == JourneyStatus.ACTIVE, Delivery.status.in_(journeys.WAITING))
    )  # fmt: skip
    if person_id is not None:
        query = query.where(Journey.person_id == person_id)
    journeys.stop(session, set(session.scalars(query)), reasons.write(stopped, title=message.title),
                  reasons.write(skipped, title=message.title))  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """The automatic reminder of a session in a course, as the console tells it."""

    count: int
    first: datetime | None


def sent(session: Session, registration_id: int, course_id: int, message_id: int) -> Sent:
    """How many learners of the course got the session's automatic reminder, and when the
    first did (the reminder time)."""
    found = find_plan(session, registration_id, course_id, automatic_name(message_id))
    if found is None:
        return Sent(0, None)
    count, first = session.execute(
        select(func.count(Delivery.id), func.min(Delivery.delivered_at))
        .where(Delivery.journey_id.in_(select(Journey.id).where(Journey.sequence_id == found.id)),
               Delivery.delivered_at.is_not(None))
    ).one()  # fmt: skip
    return Sent(int(count or 0), first)
