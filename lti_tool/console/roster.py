"""The course's learners on the console: where each stands, who mentors them, filters by
status, groups by section, a learner's timeline, and pairing a learner with a mentor."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.console.views import STAFF, bp
from lti_tool.courses.models import Enrollment, EnrollmentStatus, Person, Role
from lti_tool.errors import AppError, NotFound
from lti_tool.extensions import db
from lti_tool.i18n import _, lazy_gettext
from lti_tool.lti.access import launch_required
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    JourneyStatus,
    LearnerPreference,
    Message,
    MessageKind,
    Response,
    Sequence,
)
from lti_tool.mentoring.timeline import timeline
from lti_tool.mentors import pairing, profiles
from lti_tool.mentors.models import Mentorship
from lti_tool.mentors.services import mentor_for
from lti_tool.threads.models import Thread, ThreadStatus

#: The roster's filters: status key -> what the link says.
FILTERS = {
    "not_started": lazy_gettext("Not started"),
    "waiting": lazy_gettext("Waiting on an answer"),
    "needs_help": lazy_gettext("Needs help"),
    "opted_out": lazy_gettext("Opted out"),
}
#: A follow-up's state as the roster says it.
STATES = {"active": lazy_gettext("Under way"), "stopped": lazy_gettext("Stopped"),
          "finished": lazy_gettext("Finished"), "none": lazy_gettext("Not started")}  # fmt: skip
#: The group of learners the platform placed in no section.
NO_SECTION = lazy_gettext("No section")


class BadChoice(AppError):
    """A filter or a mentor that the roster does not offer."""


@dataclass
class Learner:
    """One row of the roster."""

    person_id: int
    name: str
    section: str
    #: ``active``, ``stopped``, ``finished`` or ``none`` (the latest follow-up's state).
    state: str = "none"
    #: The follow-up (sequence) they are on, or last were on.
    sequence: str = ""
    mentor_id: int | None = None
    mentor: str = ""
    statuses: set[str] = field(default_factory=set)

    @property
    def follow_up(self) -> str:
        """Their follow-up's state and name (``Under way: Active listening``)."""
        return (
            f"{STATES[self.state]}: {self.sequence}" if self.sequence else str(STATES[self.state])
        )

    @property
    def status_labels(self) -> list[str]:
        """Their statuses as a mentor reads them, in filter order."""
        return [str(label) for key, label in FILTERS.items() if key in self.statuses]


def learners(session: Session, course_id: int) -> list[Learner]:
    """Every active learner of the course with their follow-up state, mentor and statuses."""
    rows = session.execute(
        select(Person, Enrollment.section)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(Enrollment.course_id == course_id, Enrollment.role == Role.LEARNER,
               Enrollment.status == EnrollmentStatus.ACTIVE)
        .order_by(Person.family_name, Person.given_name, Person.id)
    ).all()  # fmt: skip
    found = {p.id: Learner(p.id, p.display_name, section or str(NO_SECTION)) for p, section in rows}
    _journeys(session, course_id, found)
    _mentors(session, course_id, found)
    for key, people in _statuses(session, course_id).items():
        for person_id in people & found.keys():
            found[person_id].statuses.add(key)
    return list(found.values())


def _journeys(session: Session, course_id: int, found: dict[int, Learner]) -> None:
    pending = set(session.scalars(
        select(Delivery.journey_id).where(
            Delivery.course_id == course_id,
            Delivery.status.in_([DeliveryStatus.SCHEDULED, DeliveryStatus.HELD]),
        )
    ))  # fmt: skip
    for journey, name in session.execute(
        select(Journey, Sequence.name).join(Sequence, Sequence.id == Journey.sequence_id)
        .where(Journey.course_id == course_id).order_by(Journey.started_at, Journey.id)
    ):  # fmt: skip
        learner = found.get(journey.person_id)
        if journey.status == JourneyStatus.STOPPED:
            state = "stopped"
        else:
            state = "active" if journey.id in pending else "finished"
        if learner is None or (learner.state == "active" and state != "active"):
            continue  # a follow-up under way says more than a later one that ended
        learner.state, learner.sequence = state, name


def _mentors(session: Session, course_id: int, found: dict[int, Learner]) -> None:
    names = {m.person_id: m.name for m in profiles.course_mentors(session, course_id)}
    for mentee, mentor in session.execute(
        select(Mentorship.mentee_id, Mentorship.mentor_id)
        .where(Mentorship.course_id == course_id, Mentorship.ended_at.is_(None))
    ):  # fmt: skip
        if mentee in found:
            found[mentee].mentor_id, found[mentee].mentor = mentor, names.get(mentor, "")
    unpaired = [learner for learner in found.values() if learner.mentor_id is None]
    default = mentor_for(session, course_id, unpaired[0].person_id) if unpaired else None
    for learner in unpaired:
        learner.mentor = (_("Not paired (messages come from %(name)s)", name=default.name)
                          if default else _("Not paired"))  # fmt: skip


def _statuses(session: Session, course_id: int) -> dict[str, set[int]]:
    started = set(session.scalars(select(Journey.person_id).where(Journey.course_id == course_id)))
    everyone = set(session.scalars(select(Enrollment.person_id).where(
        Enrollment.course_id == course_id, Enrollment.role == Role.LEARNER)))  # fmt: skip
    waiting = set(session.scalars(
        select(Delivery.person_id)
        .join(Message, Message.id == Delivery.message_id)
        .outerjoin(Response, Response.delivery_id == Delivery.id)
        .where(Delivery.course_id == course_id, Delivery.status == DeliveryStatus.DELIVERED,
               Message.kind.in_([MessageKind.QUESTION, MessageKind.SURVEY]),
               Response.id.is_(None))
    ))  # fmt: skip
    escalated = set(session.scalars(
        select(Delivery.person_id).join(Response, Response.delivery_id == Delivery.id)
        .where(Delivery.course_id == course_id, Response.escalated.is_(True))
    )) | set(session.scalars(
        select(Thread.learner_id).where(Thread.course_id == course_id,
                                        Thread.escalated_at.is_not(None),
                                        Thread.status != ThreadStatus.CLOSED)
    ))  # fmt: skip
    opted_out = {
        pref.person_id for pref in session.scalars(
            select(LearnerPreference).where(LearnerPreference.person_id.in_(everyone)))
        if pref.opted_out or not pref.email
    }  # fmt: skip
    return {"not_started": everyone - started, "waiting": waiting, "needs_help": escalated,
            "opted_out": opted_out}  # fmt: skip


def grouped(found: list[Learner]) -> list[tuple[str, list[Learner]]]:
    """Learners by section, sections in name order, those without one last."""
    groups: dict[str, list[Learner]] = defaultdict(list)
    for learner in found:
        groups[learner.section].append(learner)
    return sorted(groups.items(), key=lambda group: (group[0] == str(NO_SECTION), group[0].lower()))


def _learner_of_course(session: Session, course_id: int, person_id: int) -> Person:
    """A learner of the course (any enrollment status), or 404 for anyone else."""
    person = session.scalar(
        select(Person).join(Enrollment, Enrollment.person_id == Person.id)
        .where(Enrollment.course_id == course_id, Enrollment.person_id == person_id,
               Enrollment.role == Role.LEARNER)
    )  # fmt: skip
    if person is None:
        raise NotFound(_("There is no such learner in this course."))
    return person


@bp.get("/roster")
@launch_required(*STAFF)
def roster() -> str:
    """The course's learners, grouped by section, optionally only those with one status."""
    wanted = request.args.get("filter", "")
    if wanted and wanted not in FILTERS:
        raise BadChoice(f"“{wanted}” is not a roster filter: choose one of the links above "
                        "the roster.")  # fmt: skip
    session = db.session()
    course_id = g.launch.course.id
    everyone = learners(session, course_id)
    shown = [learner for learner in everyone if not wanted or wanted in learner.statuses]
    counts = {key: sum(key in learner.statuses for learner in everyone) for key in FILTERS}
    return render_template(
        "console/roster.html", groups=grouped(shown), total=len(everyone), shown=len(shown),
        filters=FILTERS, counts=counts, wanted=wanted,
        mentors=profiles.course_mentors(session, course_id),
    )  # fmt: skip


@bp.get("/roster/<int:person_id>")
@launch_required(*STAFF)
def learner(person_id: int) -> str:
    """One learner's follow-ups and messages, oldest first, each with its reason."""
    session = db.session()
    course_id = g.launch.course.id
    person = _learner_of_course(session, course_id, person_id)
    row = next((found for found in learners(session, course_id) if found.person_id == person_id),
               None)  # fmt: skip
    return render_template("console/roster_learner.html", person=person, learner=row,
                           entries=timeline(session, course_id, person_id))  # fmt: skip


@bp.post("/roster/<int:person_id>/mentor")
@launch_required(*STAFF)
def assign_mentor(person_id: int) -> ResponseReturnValue:
    """Make one of the course's mentors this learner's mentor."""
    session = db.session()
    course_id = g.launch.course.id
    _learner_of_course(session, course_id, person_id)
    given = request.form.get("mentor_id", "")
    mentors = {m.person_id for m in profiles.course_mentors(session, course_id)}
    if not given.isdigit() or int(given) not in mentors:
        raise BadChoice(_("Choose one of the course's mentors from the list."))
    pairing.pair(session, course_id, int(given), person_id, actor_id=g.launch.person.id)
    return redirect(url_for("console.roster", lt=g.launch.token, _anchor=f"p{person_id}"), 303)
