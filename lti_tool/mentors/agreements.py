"""Mentoring agreements: both sides write what they expect, and both accept.

Only the mentor and the mentee of the agreement may read, edit or accept it. The shared
terms (goals, how often they meet, the preferred channel) are written by either; each side
writes its own expectations. Editing any term after an acceptance starts a new version:
both acceptances reset (each must accept what the other changed) and the version as it
stood is kept in ``history``. Each function commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import freshness
from lti_tool.errors import AppError, Conflict, Forbidden, NotFound
from lti_tool.i18n import _, format_number, lazy_gettext
from lti_tool.mentors.models import Channel, MentoringAgreement, Mentorship

#: The shared terms, and how long each may be (the channel is one of ``Channel``).
SHARED = {"goals": 4000, "meeting_frequency": 120, "preferred_channel": 0}
#: Each side's own term.
OWN = {"mentee": "mentee_expectations", "mentor": "mentor_expectations"}
MAX_EXPECTATIONS = 4000
TERMS = (*SHARED, *OWN.values())
#: Each term as a sentence names it ("Keep the goals within …").
_TERM_WORDS = {
    "goals": lazy_gettext("goals"), "meeting_frequency": lazy_gettext("meeting frequency"),
    "mentee_expectations": lazy_gettext("mentee expectations"),
    "mentor_expectations": lazy_gettext("mentor expectations"),
}  # fmt: skip


def open_agreement(
    session: Session, course_id: int, mentee_id: int, actor_id: int
) -> MentoringAgreement:
    """The agreement between the learner and their current mentor in the course, started
    empty if there is none yet; only the two of them may open it."""
    mentor_id = session.scalar(
        select(Mentorship.mentor_id).where(
            Mentorship.course_id == course_id,
            Mentorship.mentee_id == mentee_id,
            Mentorship.ended_at.is_(None),
        )
    )
    if mentor_id is None:
        raise Conflict(_("This learner has no mentor in this course yet: an agreement needs both."))
    if actor_id not in (mentor_id, mentee_id):
        raise Forbidden(_("Only the mentor and the mentee can see their mentoring agreement."))
    keys = {"course_id": course_id, "mentor_id": mentor_id, "mentee_id": mentee_id}
    query = select(MentoringAgreement).filter_by(**keys)
    agreement = session.scalar(query)
    if agreement is None:
        try:
            with session.begin_nested():
                agreement = MentoringAgreement(**keys)
                session.add(agreement)
        except IntegrityError:  # opened by the other side at the same moment
            agreement = session.scalars(query).one()
        freshness.learner_changed(session, course_id, mentee_id)
    session.commit()
    return agreement


def edit(session: Session, agreement_id: int, actor_id: int, **terms: str) -> MentoringAgreement:
    """Change terms (see ``TERMS``); after an acceptance this starts a new version."""
    agreement, side = _party(session, agreement_id, actor_id)
    changed = {
        name: value
        for name, value in _checked(terms, side).items()
        if getattr(agreement, name) != value
    }
    if not changed:
        return agreement
    if agreement.accepted_by_mentee_at or agreement.accepted_by_mentor_at:
        agreement.history = [*agreement.history, _snapshot(agreement, actor_id)]
        agreement.version += 1
        agreement.accepted_by_mentee_at = agreement.accepted_by_mentor_at = None
    for name, value in changed.items():
        setattr(agreement, name, value)
    freshness.learner_changed(session, agreement.course_id, agreement.mentee_id)
    session.commit()
    return agreement


def accept(session: Session, agreement_id: int, actor_id: int, version: int) -> MentoringAgreement:
    """Accept the version the party read; a version changed since is refused (``Conflict``)."""
    agreement, side = _party(session, agreement_id, actor_id)
    if version != agreement.version:
        raise Conflict(_("The agreement changed since you read it (it is now version "
                         "%(version)s): read it again before accepting.",
                         version=agreement.version))  # fmt: skip
    if not agreement.goals:
        raise AppError(_("Write down the goals first: there is nothing to agree on yet."))
    column = f"accepted_by_{side}_at"
    if getattr(agreement, column) is None:
        setattr(agreement, column, clock.now())
        freshness.learner_changed(session, agreement.course_id, agreement.mentee_id)
    session.commit()
    return agreement


def is_accepted(agreement: MentoringAgreement) -> bool:
    """Whether both sides accepted the current version."""
    return bool(agreement.accepted_by_mentee_at and agreement.accepted_by_mentor_at)


def readable(session: Session, agreement_id: int, person_id: int) -> MentoringAgreement:
    """The agreement, if the person is one of its two parties; else ``Forbidden``."""
    return _party(session, agreement_id, person_id)[0]


def _party(session: Session, agreement_id: int, person_id: int) -> tuple[MentoringAgreement, str]:
    agreement = session.get(MentoringAgreement, agreement_id)
    if agreement is None:
        raise NotFound(_("There is no mentoring agreement %(id)s.", id=agreement_id))
    if person_id == agreement.mentee_id:
        return agreement, "mentee"
    if person_id == agreement.mentor_id:
        return agreement, "mentor"
    raise Forbidden(
        _("Only the mentor and the mentee can see or change their mentoring agreement.")
    )


def _checked(terms: dict[str, str], side: str) -> dict[str, Any]:
    unknown = sorted(set(terms) - set(TERMS))
    if unknown:
        raise AppError(_("An agreement has no term %(term)r; its terms: %(terms)s.",
                         term=unknown[0], terms=", ".join(TERMS)))  # fmt: skip
    other = OWN["mentor" if side == "mentee" else "mentee"]
    if other in terms:
        raise Forbidden(_("Only the mentor writes the mentor's expectations.") if side == "mentee"
                        else _("Only the mentee writes the mentee's expectations."))  # fmt: skip
    checked: dict[str, Any] = {}
    for name, raw in terms.items():
        value = (raw or "").strip()
        if name == "preferred_channel":
            if value not in set(Channel):
                raise AppError(_("The preferred channel must be one of: %(channels)s.",
                                 channels=", ".join(Channel)))  # fmt: skip
            checked[name] = Channel(value)
            continue
        limit = SHARED.get(name) or MAX_EXPECTATIONS
        if len(value) > limit:
            raise AppError(_("Keep the %(term)s within %(limit)s characters (this has %(count)s).",
                             term=str(_TERM_WORDS.get(name, name)), limit=format_number(limit),
                             count=format_number(len(value))))  # fmt: skip
        checked[name] = value
    return checked


def _snapshot(agreement: MentoringAgreement, changed_by: int) -> dict[str, Any]:
    def moment(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "version": agreement.version,
        **{name: str(getattr(agreement, name)) for name in TERMS},
        "accepted_by_mentee_at": moment(agreement.accepted_by_mentee_at),
        "accepted_by_mentor_at": moment(agreement.accepted_by_mentor_at),
        "replaced_by": changed_by,
        "replaced_at": moment(clock.now()),
    }
