"""Scheduling a session from the console: the form read into a session (checked by
``meetings.check``), stored as a one-step plan of the course and started now for the invited
learners (everyone, a section, or one learner), so the dispatcher delivers the invitation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.console.views import STAFF, bp
from lti_tool.courses.models import Enrollment, EnrollmentStatus, Person, Role, display_name
from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.i18n import _, lazy_gettext
from lti_tool.lti.access import launch_required
from lti_tool.mentoring import journeys, meetings, plans, reasons
from lti_tool.mentoring.broadcast import broadcast
from lti_tool.mentoring.models import Step

#: Who a session can be for, as the form offers it.
AUDIENCES = {"all": lazy_gettext("Every active learner of the course"),
             "section": lazy_gettext("The learners of one section"),
             "learner": lazy_gettext("One learner")}  # fmt: skip


class BadSession(AppError):
    """The scheduling form cannot make a session; the message says what to change."""


@cache
def zones() -> list[str]:
    """The IANA time zones the form offers, by name."""
    return sorted(available_timezones())


def read_session(form: Mapping[str, str], now: datetime) -> tuple[str, str, dict[str, Any]]:
    """The session the form describes: its title, description and checked details."""
    title = form.get("title", "").strip()
    if not title:
        raise BadSession(_("Give the session a title."))
    if len(title) > 255:
        raise BadSession(_("The title is at most 255 characters long."))
    day, start = form.get("date", "").strip(), form.get("time", "").strip()
    try:
        starts = datetime.combine(date.fromisoformat(day), time.fromisoformat(start))
    except ValueError:
        raise BadSession(
            _(
                "“%(day)s %(start)s” is not a date and a start time: write them "
                "as 2026-12-01 and 14:00.",
                day=day,
                start=start,
            )
        ) from None
    zone = form.get("time_zone", "").strip()
    if not zone:
        raise BadSession(_("Pick the time zone the date and time are in."))
    minutes, capacity = _whole(form, "duration"), _whole(form, "capacity")
    if minutes is None:
        raise BadSession(_("Give the duration as a whole number of minutes (60 is an hour)."))
    details = meetings.check(_("This session"), {
        "starts_at": starts.isoformat(), "time_zone": zone, "duration_minutes": minutes,
        "format": form.get("format", ""), "place": form.get("place", ""),
        "url": form.get("url", "").strip() or None, "capacity": capacity,
    })  # fmt: skip
    meeting = meetings.Meeting.of(details)
    if meeting is None or meeting.started(now):
        raise BadSession(
            _(
                "%(when)s (%(zone)s) is in the past: pick a later date or time.",
                when=f"{starts:%Y-%m-%d %H:%M}",
                zone=zone,
            )
        )
    return title, form.get("description", ""), details


def _whole(form: Mapping[str, str], name: str) -> int | None:
    """The field as a whole number; none when left empty."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        words = {"duration": _("duration"), "capacity": _("number of places")}.get(name, name)
        raise BadSession(
            _("The %(field)s is a whole number, not “%(text)s”.", field=words, text=text)
        ) from None


def _learners(course_id: int) -> Select[int]:
    return select(Enrollment.person_id).where(
        Enrollment.course_id == course_id, Enrollment.role == Role.LEARNER,
        Enrollment.status == EnrollmentStatus.ACTIVE,
    )  # fmt: skip


def sections(session: Session, course_id: int) -> list[str]:
    """The sections the course's active learners are in, by name."""
    found = session.scalars(_learners(course_id).with_only_columns(Enrollment.section).distinct())
    return sorted(section for section in found if section)


def invited(session: Session, course_id: int, form: Mapping[str, str]) -> list[int]:
    """The learners the form invites: the course's active ones, of a section, or one."""
    audience, wanted = form.get("audience", ""), _learners(course_id)
    if audience == "section":
        section = form.get("section", "")
        if section not in sections(session, course_id):
            raise BadSession(_("Pick the section from the list."))
        wanted = wanted.where(Enrollment.section == section)
    elif audience == "learner":
        person = form.get("person_id", "")
        wanted = wanted.where(Enrollment.person_id == (int(person) if person.isdigit() else -1))
    elif audience != "all":
        raise BadSession(_("Say who is invited: everyone, a section or one learner."))
    people = list(session.scalars(wanted.order_by(Enrollment.person_id)))
    if not people and audience == "learner":
        raise BadSession(
            _("Only an active learner of this course can be invited: pick one from the list.")
        )
    if not people:
        raise BadSession(_("Nobody would be invited: the course has no active learners there yet."))
    return people


@bp.route("/sessions/new", methods=["GET", "POST"])
@launch_required(*STAFF)
def new_session() -> ResponseReturnValue:
    """The scheduling form; a good session is stored and its invitation sent now."""
    if request.method == "GET":
        return _form({"time_zone": g.launch.person.time_zone or "UTC", "duration": "60",
                      "audience": "all"})  # fmt: skip
    session = db.session()
    registration_id, course_id = g.launch.context.registration_id, g.launch.course.id
    try:
        title, body, details = read_session(request.form, clock.now())
        people = invited(session, course_id, request.form)
    except (BadSession, meetings.SessionWritten) as error:
        session.rollback()
        return _form(request.form, error.message), 400
    sequence, _rules = plans.store(session, registration_id, {
        "name": f"Session: {title}",
        "steps": [{"key": "invite", "offset_seconds": 0, "message": {
            "kind": "session", "title": title, "body": body, "details": details}}],
    }, course_id, purpose="session")  # fmt: skip
    mentor = g.launch.person.display_name
    if request.form.get("audience") == "all":
        broadcast(session, course_id, sequence.id, by=mentor)
    else:
        why = reasons.write(reasons.INVITED, title=title, by=mentor)
        journeys.start(session, [journeys.Start(sequence.id, course_id, p, why) for p in people])
    message_id = session.scalar(select(Step.message_id).where(Step.sequence_id == sequence.id))
    session.commit()
    return redirect(url_for("console.sessions", lt=g.launch.token, _anchor=f"s{message_id}"), 303)


def _form(form: Mapping[str, str], problem: str | None = None) -> str:
    session, course_id = db.session(), g.launch.course.id
    learners = session.execute(
        select(Person.id, Person.name, Person.given_name, Person.family_name)
        .where(Person.id.in_(_learners(course_id)))
    ).all()  # fmt: skip
    names = sorted(((row.id, display_name(row.name, row.given_name, row.family_name))
                    for row in learners), key=lambda pair: pair[1].lower())  # fmt: skip
    return render_template(
        "console/sessions_new.html", form=form, problem=problem, formats=meetings.FORMATS,
        zones=zones(), audiences=AUDIENCES, sections=sections(session, course_id), learners=names,
    )  # fmt: skip
