"""Sessions a mentor holds — webinars, office hours, on-site visits, 1:1s — sent as messages
of kind ``session``: a time with its time zone, a place or a link, an optional capacity,
RSVPs with a waiting list, a calendar file, and attendance.

(Called *meetings* in the code so as not to be read as a database session.)

A session message keeps what it needs in ``details``::

    {"starts_at": "2026-12-01T14:00", "time_zone": "Europe/Paris", "duration_minutes": 60,
     "format": "office_hours", "place": "Room 4, Lyon office", "url": "https://meet.example.org/x",
     "capacity": 12}

RSVPs of one session are serialised on its message row (``FOR UPDATE`` on PostgreSQL; SQLite
writes one at a time), so a capacity is never exceeded; when someone going changes their mind,
the first on the waiting list gets the place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from babel.dates import format_date
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from lti_tool import clock
from lti_tool.courses import freshness
from lti_tool.courses.models import Course, Person
from lti_tool.errors import AppError, Conflict, NotFound
from lti_tool.i18n import N_, _, current_language, lazy_gettext
from lti_tool.mentoring import reminders
from lti_tool.mentoring.feed import FeedItem, items
from lti_tool.mentoring.models import Message, MessageKind, Rsvp, RsvpAnswer
from xapi import builders, outbox

#: What a session can be, as learners read it.
FORMATS = {
    "webinar": lazy_gettext("Webinar"), "office_hours": lazy_gettext("Office hours"),
    "visit": lazy_gettext("On-site visit"), "one_to_one": lazy_gettext("One-to-one meeting"),
}  # fmt: skip
#: The answers a session invitation offers (also its one-click email links), stored with the
#: message in English; ``rsvp_label`` says one in the reader's language.
RSVP_CHOICES = [
    {"key": RsvpAnswer.GOING.value, "label": N_("I'll be there")},
    {"key": RsvpAnswer.MAYBE.value, "label": N_("Maybe")},
    {"key": RsvpAnswer.NOT_GOING.value, "label": N_("I can't come")},
]
_LABELS = {choice["key"]: choice["label"] for choice in RSVP_CHOICES}
_TO_XAPI = {
    RsvpAnswer.GOING: builders.Rsvp.GOING,
    RsvpAnswer.MAYBE: builders.Rsvp.MAYBE,
    RsvpAnswer.NOT_GOING: builders.Rsvp.NOT_GOING,
    RsvpAnswer.WAITLISTED: builders.Rsvp.WAITLISTED,
}


class SessionWritten(AppError):
    """A session's details, as a mentor wrote them, cannot be used; the message says which."""


class NotAnRsvp(AppError):
    """The answer is not one a session invitation offers."""


class RsvpClosed(Conflict):
    """The session has started (or is over): answers no longer change anything."""

    title = "This session has started"


@dataclass(frozen=True)
class Meeting:
    """A session's time and place, from its message's details."""

    starts_at: datetime
    ends_at: datetime
    time_zone: str
    format: str
    place: str
    url: str | None
    capacity: int | None

    @classmethod
    def of(cls, details: Mapping[str, Any]) -> Meeting | None:
        """The stored session (``check`` wrote it), or none if the details are not one."""
        try:
            starts = datetime.fromisoformat(str(details["starts_at"]))
            ends = datetime.fromisoformat(str(details["ends_at"]))
        except (KeyError, ValueError):
            return None
        capacity = details.get("capacity")
        return cls(
            starts, ends, str(details.get("time_zone") or "UTC"),
            str(details.get("format") or "webinar"), str(details.get("place") or ""),
            details.get("url") or None, capacity if isinstance(capacity, int) else None,
        )  # fmt: skip

    @property
    def kind(self) -> str:
        """What it is, as learners read it ("Office hours")."""
        return str(FORMATS.get(self.format, self.format))

    def when(self, zone_name: str | None = None) -> str:
        """Its time as a person reads it in a zone (the session's own if none):
        ``Tuesday 1 December 2026, 14:00 to 15:00 (Europe/Paris)``."""
        zone = self.zone(zone_name)
        start, end = self.starts_at.astimezone(zone), self.ends_at.astimezone(zone)
        language = current_language()  # day and month names in it (English outside a request)
        day = format_date(start.date(), "EEEE d MMMM y", locale=language)
        until = f"{end:%H:%M}"
        if end.date() != start.date():
            until = f"{format_date(end.date(), 'd MMMM', locale=language)} {until}"
        return f"{day}, {start:%H:%M}\u2013{until} ({zone.key})"

    def zone(self, zone_name: str | None = None) -> ZoneInfo:
        """The zone a reader sees it in: theirs if it is one, else its own, else UTC."""
        return _zone(zone_name) or _zone(self.time_zone) or ZoneInfo("UTC")

    def started(self, now: datetime) -> bool:
        """Whether it has begun (RSVPs close then)."""
        return now >= self.starts_at


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def check(where: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """A session's details as stored (instants in UTC), or ``SessionWritten`` saying what is
    wrong."""
    zone_name = details.get("time_zone")
    zone = _zone(str(zone_name)) if zone_name else None
    if zone_name and zone is None:
        raise SessionWritten(_("%(where)s: “%(zone)s” is not a time zone (use an IANA name such "
                               "as Europe/Paris).", where=where, zone=zone_name))  # fmt: skip
    starts = _instant(where, "starts_at", details.get("starts_at"), zone)
    if starts is None:
        raise SessionWritten(_("%(where)s: a session needs starts_at, a date and time "
                               "(2026-12-01T14:00) with a time_zone or an offset.",
                               where=where))  # fmt: skip
    ends = _instant(where, "ends_at", details.get("ends_at"), zone)
    if ends is None:
        minutes = details.get("duration_minutes", 60)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
            raise SessionWritten(_("%(where)s: duration_minutes is a whole number from 1 to "
                                   "1440.", where=where))  # fmt: skip
        ends = starts + timedelta(minutes=minutes)
    if ends <= starts:
        raise SessionWritten(_("%(where)s: a session must end after it starts.", where=where))
    form = str(details.get("format") or "webinar")
    if form not in FORMATS:
        raise SessionWritten(_("%(where)s: format must be one of %(formats)s.", where=where,
                               formats=", ".join(FORMATS)))  # fmt: skip
    place, url = str(details.get("place") or "").strip(), details.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise SessionWritten(_("%(where)s: a session's url must be an http(s) address.",
                               where=where))  # fmt: skip
    if not place and not url:
        raise SessionWritten(_("%(where)s: a session needs a place, a url to join, or both.",
                               where=where))  # fmt: skip
    capacity = details.get("capacity")
    if capacity is not None and (
        not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1
    ):
        raise SessionWritten(_("%(where)s: capacity is a whole number of places (at least 1), "
                               "or left out for no limit.", where=where))  # fmt: skip
    return {**details, "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
            "time_zone": zone.key if zone else "UTC", "format": form, "place": place,
            "url": url, "capacity": capacity}  # fmt: skip


def _instant(where: str, name: str, value: Any, zone: ZoneInfo | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise SessionWritten(_("%(where)s: %(name)s “%(value)s” is not a date and time "
                               "(2026-12-01T14:00).", where=where, name=name,
                               value=value)) from None  # fmt: skip
    if moment.tzinfo is None:
        if zone is None:
            raise SessionWritten(_("%(where)s: %(name)s has no offset, so the session needs a "
                                   "time_zone to say when it is.", where=where,
                                   name=name))  # fmt: skip
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Standing:
    """Where a learner stands for one session."""

    answer: RsvpAnswer | None
    going: int
    capacity: int | None
    #: Their place on the waiting list (1: next), if they are on it.
    waiting: int | None
    attended: bool

    @property
    def places_left(self) -> int | None:
        """Free places; none: no limit."""
        return None if self.capacity is None else max(self.capacity - self.going, 0)

    @property
    def label(self) -> str:
        """Their answer as they read it."""
        if self.answer == RsvpAnswer.WAITLISTED:
            return _("On the waiting list (number %(number)s)", number=self.waiting)
        return rsvp_label(str(self.answer)) if self.answer else ""


def rsvp_label(answer: str) -> str:
    """An answer to an invitation (``going``…) as the reader reads it; "" if it is none."""
    return _(_LABELS[answer]) if answer in _LABELS else ""


# Built once, one statement: every panel view with a session invitation runs it. A row per
# session message: its id, how many are going, the learner's own answer (or none).
_Mine = aliased(Rsvp)
_GOING = (
    select(func.count()).where(Rsvp.message_id == Message.id, Rsvp.answer == RsvpAnswer.GOING)
    .correlate(Message).scalar_subquery()
)  # fmt: skip
_STANDINGS = (
    select(Message.id, _GOING, _Mine)
    .outerjoin(_Mine, and_(_Mine.message_id == Message.id,
                           _Mine.person_id == bindparam("person_id")))
    .where(Message.id.in_(bindparam("ids", expanding=True)))
)  # fmt: skip


def standings(session: Session, found: Iterable[FeedItem], person_id: int) -> dict[int, Standing]:
    """The learner's standing for each session among ``found``, by delivery id."""
    meetings = {item.message_id: item for item in found if item.kind == MessageKind.SESSION}
    if not meetings:
        return {}
    rows = session.execute(_STANDINGS, {"ids": list(meetings), "person_id": person_id}).all()
    going = {message_id: count for message_id, count, _mine in rows}
    mine = {message_id: own for message_id, _count, own in rows if own is not None}
    result = {}
    for message_id, item in meetings.items():
        meeting = Meeting.of(item.details)
        row = mine.get(message_id)
        waiting = None
        if row is not None and row.answer == RsvpAnswer.WAITLISTED:
            waiting = _position(session, row)
        result[item.delivery_id] = Standing(
            row.answer if row else None, int(going.get(message_id, 0)),
            meeting.capacity if meeting else None, waiting,
            bool(row and row.attended_at),
        )  # fmt: skip
    return result


def _position(session: Session, row: Rsvp) -> int:
    ahead = session.scalar(
        select(func.count()).select_from(Rsvp).where(
            Rsvp.message_id == row.message_id, Rsvp.answer == RsvpAnswer.WAITLISTED,
            (Rsvp.answered_at < row.answered_at)
            | ((Rsvp.answered_at == row.answered_at) & (Rsvp.id < row.id)),
        )
    )  # fmt: skip
    return int(ahead or 0) + 1


def rsvp(
    session: Session, delivery_id: int, answer: str, *, via: str, person_id: int | None = None
) -> Standing:
    """Record the learner's answer to a session invitation (a change of mind replaces it);
    going to a full session puts them on the waiting list. ``person_id``, when given, must be
    the invitation's learner (the panel's check)."""
    item = items(session, [delivery_id]).get(delivery_id)
    if item is None or (person_id is not None and item.person_id != person_id):
        raise NotFound(_("There is no such session invitation."))
    meeting = Meeting.of(item.details)
    if item.kind != MessageKind.SESSION or meeting is None:
        raise NotFound(_("This message is not an invitation to a session."))
    if answer not in _LABELS:
        raise NotAnRsvp(_("“%(answer)s” is not an answer to an invitation: choose going, maybe "
                          "or not_going.", answer=answer))  # fmt: skip
    now = clock.now()
    if meeting.started(now):
        raise RsvpClosed(
            _("“%(title)s” has already started, so answers to it are closed.", title=item.title)
        )
    wanted = RsvpAnswer(answer)
    # Counting places and taking one cannot interleave with another RSVP or a reminder.
    reminders.lock(session, item.message_id)
    row = session.scalar(
        select(Rsvp).where(Rsvp.message_id == item.message_id, Rsvp.person_id == item.person_id)
    )
    before = row.answer if row else None
    if wanted == RsvpAnswer.GOING and before == RsvpAnswer.WAITLISTED:
        wanted = RsvpAnswer.WAITLISTED  # they keep their place in line
    elif (
        wanted == RsvpAnswer.GOING
        and before != RsvpAnswer.GOING
        and _full(session, meeting, item.message_id)
    ):
        wanted = RsvpAnswer.WAITLISTED  # fmt: skip
    if row is None:
        row = Rsvp(message_id=item.message_id, person_id=item.person_id, course_id=item.course_id)
        session.add(row)
    row.delivery_id = delivery_id
    if wanted != before:
        row.answer, row.answered_at = wanted, now
        freshness.courses_changed(session, [item.course_id])  # places left, waiting lists
        session.flush()
        _emit(session, item, row, now)
        reminders.answered(session, _message(session, item), meeting, row)
        if before == RsvpAnswer.GOING:
            _promote(session, item, meeting, now)
    session.flush()
    return standings(session, [item], item.person_id)[delivery_id]


def _message(session: Session, item: FeedItem) -> Message:
    return session.get_one(Message, item.message_id)


def _full(session: Session, meeting: Meeting, message_id: int) -> bool:
    if meeting.capacity is None:
        return False
    going = session.scalar(
        select(func.count()).select_from(Rsvp)
        .where(Rsvp.message_id == message_id, Rsvp.answer == RsvpAnswer.GOING)
    )  # fmt: skip
    return int(going or 0) >= meeting.capacity


def _promote(session: Session, item: FeedItem, meeting: Meeting, now: datetime) -> None:
    """Give freed places to the waiting list, first come first served."""
    while not _full(session, meeting, item.message_id):
        first = session.scalar(
            select(Rsvp)
            .where(Rsvp.message_id == item.message_id, Rsvp.answer == RsvpAnswer.WAITLISTED)
            .order_by(Rsvp.answered_at, Rsvp.id).limit(1)
        )  # fmt: skip
        if first is None:
            return
        first.answer, first.answered_at = RsvpAnswer.GOING, now
        freshness.courses_changed(session, [first.course_id])
        session.flush()
        reminders.answered(session, _message(session, item), meeting, first)
        if first.delivery_id is not None:
            theirs = items(session, [first.delivery_id]).get(first.delivery_id)
            if theirs is not None:
                _emit(session, theirs, first, now)


def _emit(session: Session, item: FeedItem, row: Rsvp, at: datetime) -> None:
    person = session.get_one(Person, row.person_id)
    course = session.get_one(Course, row.course_id)
    scene = builders.Scene.of(outbox.tool_url(), person.registration, person, course)
    if row.answer is not None:
        statement = builders.rsvped(
            scene, session_id=item.message_id, rsvp_id=row.id, title=item.title,
            answer=_TO_XAPI[row.answer], at=at,
        )  # fmt: skip
        outbox.emit(session, person.registration_id, statement)


def mark_attended(
    session: Session, message_id: int, course_id: int, person_ids: Iterable[int]
) -> int:
    """Record who came to a session (whether they had answered or not); how many were newly
    recorded. Each is told to the LRS once."""
    message = session.get(Message, message_id)
    meeting = Meeting.of(message.details or {}) if message is not None else None
    if message is None or message.kind != MessageKind.SESSION or meeting is None:
        raise NotFound(_("There is no session %(id)s.", id=message_id))
    now = clock.now()
    marked = 0
    for person_id in dict.fromkeys(person_ids):
        person = session.get(Person, person_id)
        if person is None or person.registration_id != message.registration_id:
            raise NotFound(
                _("There is no learner %(id)s on this session's platform.", id=person_id)
            )
        row = session.scalar(
            select(Rsvp).where(Rsvp.message_id == message_id, Rsvp.person_id == person_id)
        )
        if row is None:
            row = Rsvp(message_id=message_id, person_id=person_id, course_id=course_id)
            session.add(row)
        if row.attended_at is not None:
            continue
        row.attended_at = now
        freshness.learner_changed(session, row.course_id, person_id)
        course = session.get_one(Course, row.course_id)
        scene = builders.Scene.of(outbox.tool_url(), person.registration, person, course)
        outbox.emit(session, person.registration_id, builders.attended(
            scene, session_id=message_id, title=message.title, at=now,
            duration=meeting.ends_at - meeting.starts_at,
        ))  # fmt: skip
        marked += 1
    session.flush()
    return marked


def calendar(item: FeedItem, *, host: str, now: datetime | None = None) -> bytes:
    """The session as an iCalendar file (RFC 5545) a calendar app adds in one click.

    Instants are written in UTC, so the file needs no time-zone definitions; the app shows
    them in its own zone. The UID is the session's, so adding it twice updates one event.
    """
    meeting = Meeting.of(item.details)
    if meeting is None:
        raise NotFound(_("This message is not an invitation to a session."))
    event = icalendar.Event()
    event.add("uid", f"vm-session-{item.message_id}@{host}")
    event.add("dtstamp", (now or clock.now()).astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", item.title)
    with_whom = (
        _("%(kind)s with %(mentor)s.", kind=meeting.kind, mentor=item.mentor_name)
        if item.mentor_name
        else _("%(kind)s with your mentor.", kind=meeting.kind)
    )
    lines = [item.text.strip(), "", with_whom]
    if meeting.url:
        lines.append(_("Join: %(url)s", url=meeting.url))
        event.add("url", meeting.url)
    event.add("description", "\n".join(lines).strip())
    if meeting.place or meeting.url:
        event.add("location", meeting.place or meeting.url)
    event.add("status", "CONFIRMED")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Virtual Mentor//Mentor sessions//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add_component(event)
    return bytes(cal.to_ical())
