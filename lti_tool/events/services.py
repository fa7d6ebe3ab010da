"""Recording learning events: each happening once, whichever source reports it again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.courses.models import Person
from lti_tool.database import insert_new, with_defaults
from lti_tool.events import handoff
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.lti.launch import origin_of
from lti_tool.lti.models import PlatformRegistration

_EVENTS = cast(Table, LearningEvent.__table__)


def record(session: Session, events: Sequence[dict[str, Any]]) -> int:
    """Insert the events not recorded before (by idempotency key); returns how many were new.

    One statement for the whole batch; an event already recorded is skipped, not updated.
    """
    if not events:
        return 0
    rows = [with_defaults(LearningEvent, event) for event in events]
    new = len(insert_new(session, _EVENTS, rows, keys=["idempotency_key"], returning="id"))
    if new:
        handoff.wake_after_commit()
    return new


#: The verb of a learner joining a course (first launch there, or a roster listing them).
JOINED = "http://activitystrea.ms/schema/1.0/join"


def joined(
    registration_id: int, course_id: int, people: Iterable[int], *, at: datetime, how: str
) -> list[dict[str, Any]]:
    """Learning events of learners joining a course, one per learner and course ever (the
    first launch or the roster, whichever comes first); ``how`` says which, in words."""
    return [
        {"idempotency_key": f"joined:{course_id}:{person_id}", "registration_id": registration_id,
         "course_id": course_id, "person_id": person_id, "actor": {}, "verb": JOINED,
         "activity_id": f"urn:virtual-mentor:course:{course_id}", "activity_name": how,
         "occurred_at": at, "source": EventSource.LTI, "raw": {}}
        for person_id in people
    ]  # fmt: skip


def actor_keys(actor: Any, site: str) -> tuple[str | None, str | None]:
    """How a learner named by ``actor`` is found: (platform user id, email), either may be None.

    An xAPI ``account`` on the platform's own site names its user id (Moodle's is also its
    LTI ``sub``); ``mbox`` names an email; the grade book names the LTI user id directly.
    """
    if not isinstance(actor, dict):
        return None, None
    subject = actor.get("lti_user_id")
    account = actor.get("account")
    account = account if isinstance(account, dict) else {}
    if subject is None and site and origin(str(account.get("homePage", ""))) == site:
        subject = account.get("name") or None
    mbox = str(actor.get("mbox") or "")
    email = mbox.removeprefix("mailto:").lower() if mbox.startswith("mailto:") else None
    return (str(subject) if subject is not None else None), (email or None)


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased ("" if it has none), for comparing."""
    url = url.strip()
    return origin_of(url).lower() if urlsplit(url).netloc else ""


def number(value: Any) -> float | None:
    """A JSON number as a float; anything else (booleans included) as None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


_UNRESOLVED = (
    select(_EVENTS.c.id, _EVENTS.c.registration_id, _EVENTS.c.actor, PlatformRegistration.issuer)
    .join(PlatformRegistration, PlatformRegistration.id == _EVENTS.c.registration_id)
    .where(_EVENTS.c.person_id.is_(None), _EVENTS.c.id > bindparam("after"))
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
)
_PEOPLE = select(Person.registration_id, Person.subject, func.lower(Person.email), Person.id).where(
    Person.registration_id.in_(bindparam("registrations", expanding=True)),
    or_(
        Person.subject.in_(bindparam("subjects", expanding=True)),
        func.lower(Person.email).in_(bindparam("emails", expanding=True)),
    ),
)


_RESOLVE = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event_id"))
    .values(person_id=bindparam("found_person"))
)


def resolve_actors(session: Session, *, batch: int = 2000) -> int:
    """Give unresolved events their learner once the tool knows them (they launched, or a
    roster listed them); returns how many were resolved."""
    resolved, after = 0, 0
    while True:
        rows = session.execute(_UNRESOLVED, {"after": after, "limit": batch}).all()
        if not rows:
            break
        after = rows[-1].id
        keys = {row.id: (row.registration_id, *actor_keys(row.actor, origin(row.issuer)))
                for row in rows}  # fmt: skip
        subjects = {k[1] for k in keys.values() if k[1]}
        emails = {k[2] for k in keys.values() if k[2]}
        if not subjects and not emails:
            continue
        by_subject, by_email = {}, {}
        for registration_id, subject, email, person_id in session.execute(_PEOPLE, {
            "registrations": sorted({k[0] for k in keys.values()}),
            "subjects": sorted(subjects) or [""], "emails": sorted(emails) or [""],
        }):  # fmt: skip
            by_subject[(registration_id, subject)] = person_id
            if email:
                by_email[(registration_id, email)] = person_id
        found = [
            {"event_id": event_id, "found_person": person_id}
            for event_id, (registration_id, subject, email) in keys.items()
            if (person_id := by_subject.get((registration_id, subject))
                or by_email.get((registration_id, email))) is not None
        ]  # fmt: skip
        if found:  # one statement for the batch, executed for every row
            session.connection().execute(_RESOLVE, found)
            resolved += len(found)
            handoff.wake_after_commit()  # their learner is known now: hand them off
        session.commit()
    session.commit()
    return resolved
