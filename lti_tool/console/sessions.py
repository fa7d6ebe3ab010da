"""The course's sessions on the console: when (in the mentor's zone), places taken, who
answered what (the waiting list in order), and recording who came."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.console.views import STAFF, bp
from lti_tool.courses.models import Enrollment, Person, Role
from lti_tool.errors import AppError, NotFound
from lti_tool.extensions import db
from lti_tool.i18n import _, lazy_gettext, ngettext
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import meetings
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
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
    found = []
    for message in _course_sessions(session, registration_id, course_id):
        meeting = meetings.Meeting.of(message.details or {})
        if meeting is None:
            continue
        view = SessionView(message.id, message.title, meeting, meeting.when(zone),
                           lists={str(label): [] for label in LISTS.values()})  # fmt: skip
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


@bp.post("/sessions/<int:message_id>/attendance")
@launch_required(*STAFF)
def record_attendance(message_id: int) -> ResponseReturnValue:
    """Record the ticked learners as present at the session."""
    session = db.session()
    course_id = g.launch.course.id
    ours = _course_sessions(session, g.launch.context.registration_id, course_id)
    if message_id not in {message.id for message in ours}:
        raise NotFound(_("There is no such session in this course."))
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
