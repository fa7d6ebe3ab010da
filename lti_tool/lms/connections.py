"""LMS connections: added and removed by an administrator with the CLI, checked before they
are kept, and the courses whose completions they read.

One connection at a time per platform registration (its tenant): it reads the courses of
that registration only. The address must be https (plain http only on this machine,
outside production); the token is encrypted with ``lti_tool.crypto`` before it reaches the
database and is never shown back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.addresses import address_problem, resolved_problem
from lti_tool.courses import sync_jobs
from lti_tool.courses.models import Course
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.errors import AppError, NotFound
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lti.models import Deployment, PlatformRegistration

#: What an administrator may paste after the site's address; the site is what is kept.
_API_SUFFIXES = {LmsKind.MOODLE: "/webservice/rest/server.php", LmsKind.CANVAS: "/api/v1"}
_COMPLETIONS = (CourseSync.course_id == Course.id) & (CourseSync.kind == SyncKind.COMPLETIONS)


class LmsConnectionError(AppError):
    """An LMS connection cannot be kept as given; the message says which part and why."""


@dataclass(frozen=True)
class NewConnection:
    """What an administrator says of an LMS whose completions the tool should read."""

    registration_id: int
    kind: LmsKind
    url: str
    token: str
    name: str = ""


def add(session: Session, new: NewConnection, *, production: bool) -> LmsConnection:
    """Check and keep the connection, and queue a completions read of each known course."""
    if session.get(PlatformRegistration, new.registration_id) is None:
        raise NotFound(f"There is no platform registration #{new.registration_id}.")
    held = active_for(session, new.registration_id)
    if held is not None:
        raise LmsConnectionError(
            f"Registration #{new.registration_id} already reads {held.base_url} (connection "
            f"#{held.id}); remove that one first."
        )
    token = new.token.strip()
    if not token or any(c.isspace() for c in token):
        raise LmsConnectionError("The token is empty or has spaces in it; paste it exactly.")
    connection = LmsConnection(
        registration_id=new.registration_id, kind=new.kind,
        name=new.name.strip()[:255] or f"{new.kind.value.title()} of registration "
        f"#{new.registration_id}",
        base_url=check_url(new.url, new.kind, production=production),
        token_encrypted=crypto.encrypt(token.encode()),
    )  # fmt: skip
    session.add(connection)
    session.flush()
    queue_new_courses(session)
    session.commit()
    return connection


def remove(session: Session, connection_id: int) -> LmsConnection:
    """Stop reading the LMS and forget its token; the events it brought stay."""
    connection = session.get(LmsConnection, connection_id)
    if connection is None or connection.removed_at is not None:
        raise NotFound(f"There is no LMS connection #{connection_id}.")
    connection.removed_at, connection.token_encrypted = clock.now(), b""
    courses = _courses_of(connection.registration_id)
    session.execute(
        delete(CourseSync)
        .where(CourseSync.kind == SyncKind.COMPLETIONS, CourseSync.course_id.in_(courses))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return connection


def active_for(session: Session, registration_id: int) -> LmsConnection | None:
    """The registration's connection in use, if it has one."""
    return session.scalar(
        select(LmsConnection).where(
            LmsConnection.registration_id == registration_id, LmsConnection.removed_at.is_(None)
        )
    )


def queue_new_courses(session: Session) -> list[int]:
    """Queue the first completions read of courses whose platform has a connection and that
    have none yet (a new connection, or a course launched since); returns their ids."""
    new = session.scalars(
        select(Course.id)
        .join(Deployment, Deployment.id == Course.deployment_id)
        .join(LmsConnection, LmsConnection.registration_id == Deployment.registration_id)
        .where(LmsConnection.removed_at.is_(None), ~exists().where(_COMPLETIONS))
        .order_by(Course.id)
    ).all()
    for course_id in new:
        sync_jobs.request_first(session, course_id, SyncKind.COMPLETIONS)
    return list(new)


def check_url(url: str, kind: LmsKind, *, production: bool, resolve: bool = True) -> str:
    """The LMS site's address, without a trailing slash; https, or http on loopback outside
    production.
    With ``resolve`` (when it is given, so nothing refused is stored) where the host resolves
    to is checked too; a use of a stored one leaves that to the connection
    (``http_safety.session``), which resolves and checks it anyway.
    """
    text = url.strip().rstrip("/").removesuffix(_API_SUFFIXES[kind]).rstrip("/")
    problem = address_problem(text, production=production, what="The address", carrying="the token")
    if problem is None and resolve:
        problem = resolved_problem(text, what="The address", unknown_ok=True)
    if problem is not None:
        raise LmsConnectionError(problem)
    return text


def summary(session: Session, connection: LmsConnection) -> str:
    """How the connection's course reads stand, in words (never its token)."""
    if connection.removed_at is not None:
        return f"removed {connection.removed_at:%Y-%m-%d %H:%M} UTC; its events stay"
    syncs = session.scalars(
        select(CourseSync)
        .where(CourseSync.kind == SyncKind.COMPLETIONS,
               CourseSync.course_id.in_(_courses_of(connection.registration_id)))
        .order_by(CourseSync.finished_at.desc())
    ).all()  # fmt: skip
    if not syncs:
        return "no course launched yet"
    failed = [s for s in syncs if s.status == SyncStatus.FAILED]
    counts = f"{len(syncs)} course(s), {len(failed)} failing"
    return f"{counts}; last failure: {failed[0].error}" if failed else counts


def _courses_of(registration_id: int) -> Select[Any]:
    """The ids of the registration's courses (the connection's tenant), as a subquery."""
    return (
        select(Course.id)
        .join(Deployment, Deployment.id == Course.deployment_id)
        .where(Deployment.registration_id == registration_id)
    )
