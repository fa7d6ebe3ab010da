"""Reading a course's completions from its platform's LMS connection into learning events.

A course sync of kind ``completions`` (``courses.sync_jobs``: claimed once, failures kept
in words, re-queued by beat every VM_LMS_POLL_SECONDS) runs the reader of the connection's
LMS (``moodle.py``, ``canvas.py``) and records, learner by learner, each completion once:
its idempotency key names the happening (the LMS, tenant, course, activity, learner and,
where the LMS gives one, the completion time), so reading again records nothing new. A
learner the tool has not met yet keeps the LMS's user id as the event's actor, to be
resolved when they launch or appear in the roster (``events.resolve_actors``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.courses import sync_jobs
from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.courses.syncs import CourseSync, SyncKind
from lti_tool.events import services as events
from lti_tool.events.models import EventSource
from lti_tool.lms import canvas, moodle
from lti_tool.lms.connections import LmsConnectionError, active_for, check_url
from lti_tool.lms.http import LmsError, LmsHttp
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lms.readers import CourseToRead, KnownLearner, LearnerCompletions
from lti_tool.lti.models import PlatformRegistration

_SOURCE = {LmsKind.MOODLE: EventSource.MOODLE, LmsKind.CANVAS: EventSource.CANVAS}
_PEOPLE = select(Person.subject, Person.id).where(
    Person.registration_id == bindparam("registration_id"),
    Person.subject.in_(bindparam("subjects", expanding=True)),
)
_LEARNERS = (
    select(Person.subject, Person.lms_user_id)
    .join(Enrollment, Enrollment.person_id == Person.id)
    .where(Enrollment.course_id == bindparam("course_id"), Enrollment.role == Role.LEARNER,
           Enrollment.status != EnrollmentStatus.DELETED)
    .order_by(Person.id)
)  # fmt: skip


@dataclass(frozen=True)
class ReadSettings:
    """How completion reads run (VM_LMS_* settings)."""

    timeout: float
    production: bool
    #: How the client waits before trying a busy LMS again (tests replace it).
    sleep: Callable[[float], None] = field(default=time.sleep)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReadSettings:
        """The settings of an app's configuration."""
        return cls(timeout=float(config["LMS_TIMEOUT_SECONDS"]),
                   production=config["ENV"] == "production")  # fmt: skip


def read_course(session: Session, course_id: int, settings: ReadSettings) -> bool:
    """Read the course's completions into learning events; False if another run has it.

    A failure is kept on the course's sync row in words; learners already read stay.
    """

    def body(sync: CourseSync, course: Course, registration: PlatformRegistration) -> None:
        connection = active_for(session, registration.id)
        if connection is None:
            raise LmsError("The platform has no LMS connection (flask --app wsgi lms "
                           "add-connection) to read completions through.")  # fmt: skip
        token = connection_token(connection, settings)
        known = session.execute(_LEARNERS, {"course_id": course.id}).all()
        target = CourseToRead(registration.id, course.context_id,
                              [KnownLearner(s, u) for s, u in known])  # fmt: skip
        session.commit()  # no transaction is held across a call to the LMS
        for learner in _read(connection, token, target, settings):
            sync.pages += 1
            sync.items += len(learner.completions)
            sync.written += _record(session, course, connection, learner)
            session.commit()  # this learner's events and the progress together

    return sync_jobs.run(session, course_id, SyncKind.COMPLETIONS, body)


def connection_token(connection: LmsConnection, settings: ReadSettings) -> str:
    """The connection's token, after its address is checked again (settings may change);
    LmsError if either cannot be used."""
    try:
        check_url(
            connection.base_url, connection.kind, production=settings.production, resolve=False
        )
        return crypto.decrypt(connection.token_encrypted).decode()
    except LmsConnectionError as exc:
        raise LmsError(f"The LMS connection's address is refused: {exc.message}") from None
    except crypto.SecretsKeyError as exc:
        raise LmsError(str(exc)) from None


def _read(
    connection: LmsConnection, token: str, target: CourseToRead, settings: ReadSettings
) -> Iterator[LearnerCompletions]:
    """The learners' completions as the connection's LMS shows them."""
    http = connection_http(connection, token, settings)
    try:
        if connection.kind == LmsKind.MOODLE:
            yield from moodle.read_course(moodle.MoodleClient(http, token), target)
        else:
            yield from canvas.read_course(canvas.CanvasClient(http), target)
    finally:
        http.close()


def connection_http(connection: LmsConnection, token: str, settings: ReadSettings) -> LmsHttp:
    """An HTTP client for the connection's LMS (Canvas's token in its header; Moodle's goes
    in each call's form)."""
    name = "Moodle" if connection.kind == LmsKind.MOODLE else "Canvas"
    headers = {} if connection.kind == LmsKind.MOODLE else {"Authorization": f"Bearer {token}"}
    return LmsHttp(name, connection.base_url, settings.timeout, headers, settings.sleep)


def _record(
    session: Session, course: Course, connection: LmsConnection, learner: LearnerCompletions
) -> int:
    """Record the learner's completions not recorded before; returns how many were new."""
    registration_id = connection.registration_id
    person = session.execute(
        _PEOPLE, {"registration_id": registration_id, "subjects": [learner.subject]}
    ).first()
    person_id = person.id if person is not None else None
    if person_id is not None and learner.lms_user_id is not None:
        session.execute(update(Person).where(Person.id == person_id)
                        .values(lms_user_id=learner.lms_user_id))  # fmt: skip
    now = clock.now()
    unique = {c.key: c for c in learner.completions}.values()
    return events.record(session, [
        {
            "idempotency_key": c.key[:255], "registration_id": registration_id,
            "course_id": course.id, "person_id": person_id,
            "actor": {"lti_user_id": learner.subject, "registration_id": registration_id},
            "verb": c.verb, "activity_id": c.activity_id[:2048],
            "activity_name": c.activity_name[:500], "completion": True, "success": c.success,
            "score_raw": None, "score_max": None, "score_scaled": None,
            "occurred_at": c.occurred_at or now, "source": _SOURCE[connection.kind],
            "raw": c.raw,
        }
        for c in unique
    ])  # fmt: skip
