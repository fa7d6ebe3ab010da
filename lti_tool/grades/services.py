"""Reading a course's grade book into learning events, and sending scores to it.

Each result with a score becomes a "scored" learning event (completed, with the raw,
maximum and scaled score) for the line item's activity; its idempotency key is the result
and its score, so reading the grade book again records nothing new unless a score
changed. A learner the tool has not met yet keeps the platform's user id as the event's
actor, to be resolved when they launch or appear in the roster.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import sync_jobs
from lti_tool.courses.models import Course, Person
from lti_tool.courses.syncs import CourseSync, SyncKind
from lti_tool.events import services as events
from lti_tool.events.models import EventSource
from lti_tool.events.services import number
from lti_tool.grades.client import (
    LINEITEM,
    LINEITEM_READ,
    RESULT_READ,
    SCORE,
    GradeError,
    line_items,
    post_score,
    results,
)
from lti_tool.lti.models import PlatformRegistration
from lti_tool.lti.service_auth import access_token
from lti_tool.lti.storage import LaunchStorage

SCORED = "http://adlnet.gov/expapi/verbs/scored"
_PEOPLE = select(Person.subject, Person.id).where(
    Person.registration_id == bindparam("registration_id"),
    Person.subject.in_(bindparam("subjects", expanding=True)),
)


def can_read(scopes: list[str]) -> bool:
    """Whether the platform granted what reading results needs."""
    return RESULT_READ in scopes and bool({LINEITEM, LINEITEM_READ} & set(scopes))


def read_course(session: Session, store: LaunchStorage, course_id: int, *, timeout: float) -> bool:
    """Read every line item's results into learning events; False if another run has it."""

    def body(sync: CourseSync, course: Course, registration: PlatformRegistration) -> None:
        if not course.lineitems_url:
            raise GradeError(
                "The platform has not offered this course's grade book "
                "(assignment and grade services)."
            )
        if not can_read(course.ags_scopes):
            raise GradeError("The platform has not allowed the tool to read results here.")
        item_scope = LINEITEM_READ if LINEITEM_READ in course.ags_scopes else LINEITEM
        token = access_token(session, store, registration, [item_scope, RESULT_READ],
                             timeout=timeout)  # fmt: skip
        url = str(course.lineitems_url)
        session.commit()  # no transaction is held across a call to the platform
        for item in list(line_items(url, token, timeout=timeout)):
            found = list(results(item["id"], token, timeout=timeout))
            sync.pages += 1
            sync.items += len(found)
            sync.written += _record(session, course, registration, item, found)
            session.commit()  # this line item's events and the progress together

    return sync_jobs.run(session, course_id, SyncKind.GRADES, body)


def _record(
    session: Session,
    course: Course,
    registration: PlatformRegistration,
    item: dict[str, Any],
    found: list[dict[str, Any]],
) -> int:
    people = dict(
        session.execute(
            _PEOPLE,
            {"registration_id": registration.id,
             "subjects": sorted({str(r["userId"]) for r in found})},
        ).all()
    )  # fmt: skip
    now = clock.now()
    batch = [
        event
        for result in found
        if (event := _event(course, registration, item, result, people=people, now=now)) is not None
    ]
    return events.record(session, batch)


def _event(
    course: Course,
    registration: PlatformRegistration,
    item: dict[str, Any],
    result: dict[str, Any],
    *,
    people: dict[str, int],
    now: Any,
) -> dict[str, Any] | None:
    """The learning event a result shows, if it shows a score."""
    score = number(result.get("resultScore"))
    if score is None:
        return None
    maximum = number(result.get("resultMaximum"))
    if maximum is None:
        maximum = number(item.get("scoreMaximum"))
    user_id = str(result["userId"])
    scaled = min(max(score / maximum, 0.0), 1.0) if maximum else None
    identity = f"{result.get('id') or item['id'] + '#' + user_id}|{score}|{maximum}"
    line_item = {k: item[k] for k in ("id", "label", "resourceId", "tag", "resourceLinkId")
                 if k in item}  # fmt: skip
    return {
        "idempotency_key": "ags:" + hashlib.sha256(identity.encode()).hexdigest(),
        "registration_id": registration.id, "course_id": course.id,
        "person_id": people.get(user_id),
        "actor": {"lti_user_id": user_id, "registration_id": registration.id},
        "verb": SCORED, "activity_id": str(item["id"])[:2048],
        "activity_name": str(item.get("label") or "")[:500],
        "completion": True, "success": None,
        "score_raw": score, "score_max": maximum, "score_scaled": scaled,
        "occurred_at": now, "source": EventSource.AGS,
        "raw": {"line_item": line_item, "result": result},
    }  # fmt: skip


def send_score(
    session: Session,
    store: LaunchStorage,
    registration: PlatformRegistration,
    line_item_url: str,
    score: dict[str, Any],
    *,
    timeout: float,
) -> None:
    """Post a learner's score (AGS score JSON: userId, scoreGiven, scoreMaximum,
    activityProgress, gradingProgress, timestamp) to a line item of the course."""
    token = access_token(session, store, registration, [SCORE], timeout=timeout)
    session.commit()  # no transaction is held across a call to the platform
    post_score(line_item_url, token, score, timeout=timeout)
