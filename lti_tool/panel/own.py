"""What the panel shows a learner of their own: their mentor, their mentoring agreement and
their questions. Every lookup is scoped by the launch's course and learner, so an id of
someone else's thread or agreement is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Person
from lti_tool.errors import NotFound
from lti_tool.i18n import _, lazy_gettext, ngettext
from lti_tool.mentoring.models import Delivery, DeliveryStatus
from lti_tool.mentors.models import Channel, MentoringAgreement, MentorProfile, Mentorship
from lti_tool.mentors.services import Mentor, as_mentor, mentor_for
from lti_tool.threads import listing
from lti_tool.threads.models import AuthorRole, Thread, ThreadStatus

#: A thread's status as the learner reads it.
STATUS_WORDS = {
    ThreadStatus.WAITING: lazy_gettext("Waiting for an answer"),
    ThreadStatus.ANSWERED: lazy_gettext("Answered"),
    ThreadStatus.CLOSED: lazy_gettext("Closed"),
}
#: The agreement's channels as the learner reads them.
CHANNEL_WORDS = {
    Channel.PANEL: lazy_gettext("Messages in this panel"),
    Channel.EMAIL: lazy_gettext("Email"),
    Channel.VIDEO: lazy_gettext("Video calls"),
    Channel.PHONE: lazy_gettext("Phone"),
    Channel.IN_PERSON: lazy_gettext("In person"),
}
#: The terms the learner writes: the shared ones and their own expectations.
LEARNER_TERMS = ("goals", "meeting_frequency", "preferred_channel", "mentee_expectations")


@dataclass(frozen=True)
class Question:
    """One of the learner's threads as their panel lists it."""

    thread: Thread
    #: Its status in words.
    status: str
    #: How long ago it was asked, in words ("3 hours").
    asked: str
    #: How long it has waited for a mentor, in words; none unless waiting.
    waiting: str | None
    #: A mentor replied and the learner has not opened it since.
    new_reply: bool
    #: How long until ``asked`` or ``waiting`` reads differently.
    changes_in: timedelta = timedelta.max


@dataclass(frozen=True)
class Top:
    """The top of the learner's panel: their mentor, an agreement to accept, their questions."""

    mentor: Mentor | None
    #: The agreement with their current mentor, while the learner has not accepted it.
    agreement: MentoringAgreement | None
    questions: list[Question]
    #: How many questions have a reply the learner has not read.
    unread: int

    @property
    def changes_in(self) -> timedelta:
        """How long until an age it shows ("asked 3 minutes ago") reads differently."""
        return min((q.changes_in for q in self.questions), default=timedelta.max)

    @property
    def initials(self) -> str:
        """The mentor's initials, shown where they have no photo."""
        words = self.mentor.name.split() if self.mentor else []
        return "".join(word[0] for word in words[:2]).upper()


# The learner's current mentorship with its mentor, their profile and the agreement, in one
# statement built once (what ``mentor_for`` and ``agreement`` each read on their own).
_PAIRED = (
    select(MentorProfile, Person, MentoringAgreement)
    .select_from(Mentorship)
    .join(Person, Person.id == Mentorship.mentor_id)
    .outerjoin(MentorProfile, MentorProfile.person_id == Mentorship.mentor_id)
    .outerjoin(MentoringAgreement, and_(
        MentoringAgreement.course_id == Mentorship.course_id,
        MentoringAgreement.mentee_id == Mentorship.mentee_id,
        MentoringAgreement.mentor_id == Mentorship.mentor_id,
    ))
    .where(Mentorship.course_id == bindparam("course_id"),
           Mentorship.mentee_id == bindparam("learner_id"), Mentorship.ended_at.is_(None))
)  # fmt: skip


def top(session: Session, course_id: int, learner_id: int) -> Top:
    """Everything the top of the panel shows the learner, in one place: their mentor and
    agreement in one read (``mentor_for`` only when the pairing gives no profiled mentor),
    their questions in another, the unread replies counted among them."""
    paired = session.execute(_PAIRED, {"course_id": course_id, "learner_id": learner_id}).all()
    profiled = next((row for row in paired if row[0] is not None), None)
    found = next((row[2] for row in paired if row[2] is not None), None)
    due = found if found is not None and found.accepted_by_mentee_at is None else None
    mine = questions(session, course_id, learner_id)
    return Top(
        mentor=as_mentor(profiled[0], profiled[1]) if profiled is not None
        else mentor_for(session, course_id, learner_id),
        agreement=due, questions=mine, unread=sum(1 for q in mine if q.new_reply),
    )  # fmt: skip


def questions(session: Session, course_id: int, learner_id: int) -> list[Question]:
    """The learner's threads in the course, newest first, with their status and age."""
    now = clock.now()
    return [
        Question(
            thread=row.thread,
            status=str(STATUS_WORDS[row.thread.status]),
            asked=age(now - row.thread.opened_at),
            waiting=age(row.waiting_for) if row.waiting_for is not None else None,
            new_reply=row.thread.learner_unread_at is not None,
            changes_in=min(
                age_changes_in(now - row.thread.opened_at),
                age_changes_in(row.waiting_for) if row.waiting_for is not None else timedelta.max,
            ),
        )
        for row in listing.for_learner(session, course_id, learner_id)
    ]


def thread(session: Session, course_id: int, learner_id: int, thread_id: int) -> Thread:
    """The learner's own thread in the course; anyone else's is not found."""
    found = session.scalar(
        select(Thread).where(
            Thread.id == thread_id, Thread.course_id == course_id, Thread.learner_id == learner_id
        )
    )
    if found is None:
        raise NotFound(_("You have no such question in this course."))
    return found


def delivery(session: Session, course_id: int, learner_id: int, delivery_id: int) -> None:
    """``NotFound`` unless the delivery is in the learner's panel: theirs, in the launch's
    course, and delivered. The mentoring services check the learner only, so without this
    the same learner launched in another course of the platform could act on this course's
    messages, and anyone on a message still scheduled (answering it before it is sent)."""
    found = session.scalar(
        select(Delivery.id).where(Delivery.id == delivery_id, Delivery.course_id == course_id,
                                  Delivery.person_id == learner_id,
                                  Delivery.status == DeliveryStatus.DELIVERED)
    )  # fmt: skip
    if found is None:
        raise NotFound("There is no such message in your mentor panel.")


def author_names(session: Session, found: Thread) -> dict[int, str]:
    """Who wrote each post of the thread, by person id: "You" for the learner, a mentor by
    the name on their profile (else the name the platform sent; a mentor without either, such
    as one whose data was erased, is left to the page's "Your mentor")."""
    mentors = {p.author_id for p in found.posts if p.author_role is AuthorRole.MENTOR}
    rows = session.execute(
        select(Person, MentorProfile.display_name)
        .outerjoin(MentorProfile, MentorProfile.person_id == Person.id)
        .where(Person.id.in_(mentors))
    ).all()
    names = {person.id: shown or person.display_name for person, shown in rows
             if shown or person.name or person.given_name or person.family_name}  # fmt: skip
    return {**names, found.learner_id: _("You")}


def agreement(
    session: Session, course_id: int, learner_id: int, agreement_id: int | None = None
) -> MentoringAgreement | None:
    """The learner's agreement with their current mentor in the course, if one was opened
    (and, given ``agreement_id``, only if it is that one)."""
    query = (
        select(MentoringAgreement)
        .join(Mentorship, and_(
            Mentorship.course_id == MentoringAgreement.course_id,
            Mentorship.mentee_id == MentoringAgreement.mentee_id,
            Mentorship.mentor_id == MentoringAgreement.mentor_id,
            Mentorship.ended_at.is_(None),
        ))
        .where(MentoringAgreement.course_id == course_id,
               MentoringAgreement.mentee_id == learner_id)
    )  # fmt: skip
    if agreement_id is not None:
        query = query.where(MentoringAgreement.id == agreement_id)
    return session.scalar(query)


def own_agreement(
    session: Session, course_id: int, learner_id: int, agreement_id: int | None = None
) -> MentoringAgreement:
    """``agreement``, or ``NotFound`` in words when the learner has none (or not that one)."""
    found = agreement(session, course_id, learner_id, agreement_id)
    if found is None:
        raise NotFound(_("You have no mentoring agreement in this course yet."))
    return found


def age_changes_in(delta: timedelta) -> timedelta:
    """How long until ``age(delta)`` reads differently, as time goes by."""
    seconds = max(0, int(delta.total_seconds()))
    unit = 86_400 if seconds >= 86_400 else 3_600 if seconds >= 3_600 else 60
    return timedelta(seconds=unit - seconds % unit)


def age(delta: timedelta) -> str:
    """A duration in its largest whole unit, as a person reads it at a glance ("3 hours")."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86_400:
        return ngettext("%(num)s day", "%(num)s days", seconds // 86_400)
    if seconds >= 3_600:
        return ngettext("%(num)s hour", "%(num)s hours", seconds // 3_600)
    if seconds >= 60:
        return ngettext("%(num)s minute", "%(num)s minutes", seconds // 60)
    return _("less than a minute")
