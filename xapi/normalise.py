"""Statements into learning events: who (resolved within the tenant), what, result, when.

A learner is found by their xAPI account on the platform (Moodle's logstore names them by
``account.homePage`` = the site, ``account.name`` = the Moodle user id, which is also
their LTI ``sub``) or by ``mbox`` against the email the platform shared. The course is
found from the statement's context activities (Moodle's ``/course/view.php?id=N`` is the
course whose LTI context id is N). What cannot be resolved yet is kept: the event has no
person (or no course) and its ``actor`` says who the source meant.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Course, Person
from lti_tool.events.models import EventSource
from lti_tool.events.services import actor_keys, number, origin
from lti_tool.lti.models import Deployment, PlatformRegistration
from xapi.times import parse_instant

_MOODLE_COURSE = re.compile(r"/course/view\.php\?(?:.*&)?id=(\d+)(?:&|$)")
_CONTEXT_LISTS = ("parent", "grouping", "other", "category")
# Who and where, looked up in one round trip: each part tags its rows with what it found.
_LOOKUPS = {
    "subjects": select(literal("subject"), Person.subject, Person.id).where(
        Person.registration_id == bindparam("registration_id"),
        Person.subject.in_(bindparam("subjects", expanding=True)),
    ),
    "emails": select(literal("email"), func.lower(Person.email), Person.id).where(
        Person.registration_id == bindparam("registration_id"),
        func.lower(Person.email).in_(bindparam("emails", expanding=True)),
    ),
    "contexts": select(literal("course"), Course.context_id, Course.id)
    .join(Deployment, Deployment.id == Course.deployment_id)
    .where(
        Deployment.registration_id == bindparam("registration_id"),
        Course.context_id.in_(bindparam("contexts", expanding=True)),
    ),
}


@dataclass(frozen=True)
class Draft:
    """A statement's learning event before its learner and course are looked up, with what
    to look them up by."""

    #: The event's columns, but ``person_id`` and ``course_id``.
    event: dict[str, Any]
    #: The learner's platform user id (LTI ``sub``), if the actor names it.
    subject: str | None
    #: The learner's email, if the actor names it.
    email: str | None
    #: LTI context ids of the courses the statement names, most specific first.
    contexts: list[str]
    #: The statement's place in the list the drafts were made from.
    index: int


def drafts(registration_id: int, statements: Sequence[dict[str, Any]], site: str) -> list[Draft]:
    """The event drafts of stored statements (those about an Activity), with no database."""
    found = []
    for index, statement in enumerate(statements):
        activity = _activity(statement)
        if activity is None:
            continue
        subject, email = actor_keys(statement.get("actor"), site)
        result = statement.get("result") or {}
        score = result.get("score") or {}
        found.append(Draft({
            "idempotency_key": f"xapi:{registration_id}:{statement['id']}",
            "registration_id": registration_id,
            "actor": statement.get("actor") or {}, "verb": str(statement["verb"]["id"])[:255],
            "activity_id": str(activity["id"])[:2048],
            "activity_name": _name((activity.get("definition") or {}).get("name"))[:500],
            "completion": result.get("completion"), "success": result.get("success"),
            "score_raw": number(score.get("raw")), "score_max": number(score.get("max")),
            "score_scaled": _scaled(score),
            "occurred_at": _when(statement), "source": EventSource.XAPI, "raw": statement,
        }, subject, email, _moodle_courses(statement, site), index))  # fmt: skip
    return found


def site_of(session: Session, registration_id: int, issuer: str | None = None) -> str:
    """The platform's site (its issuer's origin), from ``issuer`` if the caller has it."""
    if issuer is None:
        registration = session.get(PlatformRegistration, registration_id)
        issuer = registration.issuer if registration is not None else ""
    return origin(issuer)


def learning_events(
    session: Session,
    registration_id: int,
    statements: Sequence[dict[str, Any]],
    issuer: str | None = None,
) -> list[dict[str, Any]]:
    """The learning events of stored statements (those about an Activity).

    ``issuer`` is the registration's, if the caller already has it (one query less).
    """
    found = drafts(registration_id, statements, site_of(session, registration_id, issuer))
    if not found:
        return []
    subjects = {draft.subject for draft in found if draft.subject}
    emails = {draft.email for draft in found if draft.email}
    contexts = {course for draft in found for course in draft.contexts}
    looked_up = _lookup(
        session, registration_id, subjects=subjects, emails=emails, contexts=contexts
    )
    people, by_email, courses = looked_up["subject"], looked_up["email"], looked_up["course"]
    return [
        {**draft.event,
         "person_id": people.get(draft.subject or "") or by_email.get(draft.email or ""),
         "course_id": next((courses[c] for c in draft.contexts if c in courses), None)}
        for draft in found
    ]  # fmt: skip


def _lookup(
    session: Session, registration_id: int, **wanted: set[str]
) -> dict[str, dict[str, int]]:
    """People by subject and by email, and courses by context id, in one query."""
    found: dict[str, dict[str, int]] = {"subject": {}, "email": {}, "course": {}}
    asked = tuple(name for name, values in wanted.items() if values)
    if asked:
        parameters = {name: sorted(wanted[name]) for name in asked}
        rows = session.execute(_union(asked), {"registration_id": registration_id, **parameters})
        for kind, key, row_id in rows:
            found[kind][str(key)] = int(row_id)
    return found


@functools.cache
def _union(asked: tuple[str, ...]) -> Any:
    """The lookup for this combination of wants, built once."""
    return union_all(*(_LOOKUPS[name] for name in asked))


def _activity(statement: dict[str, Any]) -> dict[str, Any] | None:
    thing = statement.get("object")
    if isinstance(thing, dict) and thing.get("objectType", "Activity") == "Activity":
        return thing
    return None


def _moodle_courses(statement: dict[str, Any], site: str) -> list[str]:
    activities = ((statement.get("context") or {}).get("contextActivities")) or {}
    found = []
    for key in _CONTEXT_LISTS:
        listed = activities.get(key) or []
        for activity in listed if isinstance(listed, list) else [listed]:
            url = str((activity or {}).get("id", ""))
            match = _MOODLE_COURSE.search(url)
            if match and origin(url) == site:
                found.append(match.group(1))
    thing = _activity(statement) or {}
    match = _MOODLE_COURSE.search(str(thing.get("id", "")))
    if match and origin(str(thing["id"])) == site:
        found.append(match.group(1))  # a course completion's object is the course itself
    return found


def _name(names: Any) -> str:
    if not isinstance(names, dict) or not names:
        return ""
    for tag in ("en", "en-US", "en-GB"):
        if isinstance(names.get(tag), str):
            return str(names[tag])
    return str(next(iter(names.values())))


def _scaled(score: dict[str, Any]) -> float | None:
    scaled = number(score.get("scaled"))
    if scaled is not None:
        return scaled
    raw, top, bottom = (number(score.get(k)) for k in ("raw", "max", "min"))
    low = bottom or 0.0
    if raw is None or top is None or top <= low:
        return None
    return (raw - low) / (top - low)


def _when(statement: dict[str, Any]) -> datetime:
    return (
        parse_instant(statement.get("timestamp"))
        or parse_instant(statement.get("stored"))
        or (clock.now())
    )
