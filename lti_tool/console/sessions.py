"""The course's sessions on the console: when (in the mentor's zone), places taken, who
answered what (the waiting list in order), recording who came, and reminding those going.

A reminder is a one-step plan (an announcement) of its own per session and day (the day in
the session's own zone), found again by its name: a journey is unique per (sequence, course,
learner), so pressing "Remind those going" twice that day reminds each learner once (and
only those who said they are going since)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.console.views import STAFF, bp
from lti_tool.courses.models import Enrollment, Person, Role
from lti_tool.errors import AppError, Conflict, NotFound
from lti_tool.extensions import db
from lti_tool.i18n import _, current_language, lazy_gettext, ngettext
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import journeys, meetings, reasons, reminders
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    Message,
    MessageKind,
    Rsvp,
    RsvpAnswer,
    Sequence,
    Step,
)

#: The RSVP lists, in the order the page shows them.
LISTS = {RsvpAnswer.GOING: lazy_gettext("Going"), RsvpAnswer.MAYBE: lazy_gettext("Maybe"),
         RsvpAnswer.NOT_GOING: lazy_gettext("Not going"),
         RsvpAnswer.WAITLISTED: lazy_gettext("Waiting list")}  # fmt: skip


class BadAttendance(AppError):
    """The attendance form named nobody, or someone who is not the course's learner."""


class NobodyGoing(AppError):
    """A reminder was asked for a session nobody has said they are going to."""


@dataclass
class SessionView:
    """One session as the console shows it."""

    message_id: int
    title: str
    meeting: meetings.Meeting
    when: str
    going: int = 0
    lists: dict[str, list[str]] = field(default_factory=dict)
    #: Invited or answering learners: (person id, name, came).
    learners: list[tuple[int, str, bool]] = field(default_factory=list)
    #: Not started yet (it can be reminded of).
    upcoming: bool = False
    #: Learners reminded of it today (the session's day).
    reminded: int = 0
    #: Learners who got its automatic reminder.
    automatic: int = 0
    #: When the first of them got it, in the mentor's zone (or the session's).
    automatic_at: str = ""

    @property
    def places(self) -> str:
        """Places taken, and of how many."""
        if self.meeting.capacity is None:
            return _("%(going)s going (no limit)", going=self.going)
        return ngettext(
            "%(going)s of %(num)s place taken",
            "%(going)s of %(num)s places taken",
            self.meeting.capacity,
            going=self.going,
        )


def _course_sessions(session: Session, registration_id: int, course_id: int) -> list[Message]:
    """Session messages sent in the course, or in one of its own follow-up plans."""
    sent = select(Delivery.message_id).where(Delivery.course_id == course_id)
    planned = (select(Step.message_id).join(Sequence, Sequence.id == Step.sequence_id)
               .where(Sequence.course_id == course_id))  # fmt: skip
    return list(session.scalars(
        select(Message).where(Message.registration_id == registration_id,
                              Message.kind == MessageKind.SESSION,
                              Message.id.in_(sent) | Message.id.in_(planned))
        .order_by(Message.id)
    ))  # fmt: skip


def sessions_of(
    session: Session, registration_id: int, course_id: int, zone: str | None
) -> list[SessionView]:
    """The course's sessions, soonest first, with their RSVP lists and attendance."""
    found, now = [], clock.now()
    for message in _course_sessions(session, registration_id, course_id):
        meeting = meetings.Meeting.of(message.details or {})
        if meeting is None:
            continue
        view = SessionView(message.id, message.title, meeting, meeting.when(zone),
                           lists={str(label): [] for label in LISTS.values()},
                           upcoming=not meeting.started(now))  # fmt: skip
        reminder = _reminder(session, registration_id, course_id, message.id, _day(meeting, now))
        if reminder is not None:
            view.reminded = int(session.scalar(
                select(func.count()).select_from(Journey)
                .where(Journey.sequence_id == reminder.id, Journey.course_id == course_id)
            ) or 0)  # fmt: skip
        sent = reminders.sent(session, registration_id, course_id, message.id)
        if sent.first is not None:
            view.automatic, view.automatic_at = sent.count, _moment(sent.first, zone, meeting)
        people: dict[int, tuple[str, bool]] = {}
        for rsvp, person in session.execute(
            select(Rsvp, Person).join(Person, Person.id == Rsvp.person_id)
            .where(Rsvp.message_id == message.id, Rsvp.course_id == course_id)
            .order_by(Rsvp.answered_at, Rsvp.id)
        ):  # fmt: skip
            if rsvp.answer is not None:
                view.lists[str(LISTS[rsvp.answer])].append(person.display_name)
            people[person.id] = (person.display_name, rsvp.attended_at is not None)
        view.going = len(view.lists[str(LISTS[RsvpAnswer.GOING])])
        for person in session.scalars(
            select(Person).join(Delivery, Delivery.person_id == Person.id)
            .where(Delivery.message_id == message.id, Delivery.course_id == course_id,
                   Delivery.status == DeliveryStatus.DELIVERED)
        ):  # fmt: skip
            people.setdefault(person.id, (person.display_name, False))
        view.learners = sorted(((pid, name, came) for pid, (name, came) in people.items()),
                               key=lambda p: p[1].lower())  # fmt: skip
        found.append(view)
    return sorted(found, key=lambda view: view.meeting.starts_at)


@bp.get("/sessions")
@launch_required(*STAFF)
def sessions() -> str:
    """The course's sessions: when, places, RSVP lists, and the attendance form."""
    zone = g.launch.person.time_zone
    found = sessions_of(db.session(), g.launch.context.registration_id, g.launch.course.id, zone)
    return render_template("console/sessions.html", sessions=found, zone=zone or "",
                           waiting_list=str(LISTS[RsvpAnswer.WAITLISTED]))  # fmt: skip


def _moment(at: datetime, zone_name: str | None, meeting: meetings.Meeting) -> str:
    """An instant as a mentor reads it: ``30 November 2026, 14:00 (Europe/Paris)``."""
    zone = meeting.zone(zone_name)
    when = format_datetime(at, "d MMMM y, HH:mm", tzinfo=zone, locale=current_language())
    return f"{when} ({zone.key})"


def _day(meeting: meetings.Meeting, now: datetime) -> date:
    """Today in the session's own zone (UTC if it has none we know): every mentor of the
    course shares it."""
    try:
        return now.astimezone(ZoneInfo(meeting.time_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(UTC).date()


def _reminder(
    session: Session, registration_id: int, course_id: int, message_id: int, day: date
) -> Sequence | None:
    """The session's reminder plan of that day, if one was sent."""
    return reminders.find_plan(session, registration_id, course_id, _daily_name(message_id, day))


def _daily_name(message_id: int, day: date) -> str:
    return f"Reminder of session {message_id} on {day.isoformat()}"


def remind_going(
    session: Session, registration_id: int, course_id: int, message: Message, *, by: str
) -> int:
    """Remind the session's learners who are going (each once a day); how many were new."""
    meeting = meetings.Meeting.of(message.details or {})
    now = clock.now()
    if meeting is None or meeting.started(now):
        raise Conflict(f"“{message.title}” has already started, so there is nobody to remind.")
    # Serialise reminders of one session (as RSVPs are), so two presses find one plan.
    reminders.lock(session, message.id)
    going = list(session.scalars(select(Rsvp.person_id).where(
        Rsvp.message_id == message.id, Rsvp.course_id == course_id,
        Rsvp.answer == RsvpAnswer.GOING).order_by(Rsvp.person_id)))  # fmt: skip
    if not going:
        raise NobodyGoing(
            _(
                "Nobody has said they are going to “%(title)s” yet, so no reminder was sent.",
                title=message.title,
            )
        )
    day = _day(meeting, now)
    sequence = reminders.plan(session, course_id, message, meeting, _daily_name(message.id, day))
    why = reasons.write(reasons.REMINDED, day=day.isoformat(), by=by, title=message.title)
    starts = [journeys.Start(sequence.id, course_id, person, why) for person in going]
    return len(journeys.start(session, starts, now=now))


@bp.post("/sessions/<int:message_id>/remind")
@launch_required(*STAFF)
def remind_session(message_id: int) -> ResponseReturnValue:
    """Send those going to an upcoming session a reminder (once a day each)."""
    session = db.session()
    message = _course_session(session, message_id)
    remind_going(session, g.launch.context.registration_id, g.launch.course.id, message,
                 by=g.launch.person.display_name)  # fmt: skip
    session.commit()
    return redirect(url_for("console.sessions", lt=g.launch.token, _anchor=f"s{message_id}"), 303)


def _course_session(session: Session, message_id: int) -> Message:
    """The course's session ``message_id``, or 404."""
    ours = _course_sessions(session, g.launch.context.registration_id, g.launch.course.id)
    found = next((message for message in ours if message.id == message_id), None)
    if found is None:
        raise NotFound(_("There is no such session in this course."))
    return found


@bp.post("/sessions/<int:message_id>/attendance")
@launch_required(*STAFF)
def record_attendance(message_id: int) -> ResponseReturnValue:
    """Record the ticked learners as present at the session."""
    session = db.session()
    course_id = g.launch.course.id
    _course_session(session, message_id)
    given = request.form.getlist("person_id")
    if not given:
        raise BadAttendance(_("Tick at least one learner who came, then record attendance."))
    if not all(value.isdigit() for value in given):
        raise BadAttendance(_("The attendance form names learners by number only."))
    ids = {int(value) for value in given}
    learners = set(session.scalars(select(Enrollment.person_id).where(
        Enrollment.course_id == course_id, Enrollment.role == Role.LEARNER,
        Enrollment.person_id.in_(ids))))  # fmt: skip
    if ids - learners:
        raise BadAttendance(_("Only learners of this course can be recorded as present."))
    meetings.mark_attended(session, message_id, course_id, sorted(ids))
    session.commit()
    return redirect(url_for("console.sessions", lt=g.launch.token, _anchor=f"s{message_id}"), 303)
