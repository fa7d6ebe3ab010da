"""Roster sync: read every page of a course's names-and-roles roster into people and
enrollments, writing only what changed.

A member who never launched the tool still gets a person and an enrollment (welcome
messages need them). Inactive and Deleted members are marked, never removed, and members
missing from a complete roster are marked deleted. Each page is written by conditional
upserts (``ON CONFLICT … DO UPDATE … WHERE something differs``), so a re-sync of an
unchanged roster writes no rows at all. Progress is committed page by page for the
instructor's console.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import sync_jobs
from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.courses.syncs import CourseSync, SyncKind
from lti_tool.events import services as events
from lti_tool.lti.models import PlatformRegistration
from lti_tool.lti.roles import map_roles
from lti_tool.lti.service_auth import access_token
from lti_tool.lti.storage import LaunchStorage
from lti_tool.roster.client import (
    NRPS_SCOPE,
    PERSONAL_FIELDS,
    Member,
    RosterError,
    member_pages,
)

log = logging.getLogger(__name__)
_PEOPLE = cast(Table, Person.__table__)
_ENROLLMENTS = cast(Table, Enrollment.__table__)
# What the tool holds for a page's members: their person, and their enrollment here if any.
_HELD = (
    select(
        _PEOPLE.c.subject, _PEOPLE.c.id,
        *(_PEOPLE.c[column] for column in PERSONAL_FIELDS.values()),
        _ENROLLMENTS.c.role, _ENROLLMENTS.c.lti_roles, _ENROLLMENTS.c.status,
    )
    .outerjoin(_ENROLLMENTS, and_(_ENROLLMENTS.c.person_id == _PEOPLE.c.id,
                                  _ENROLLMENTS.c.course_id == bindparam("course_id")))
    .where(
        _PEOPLE.c.registration_id == bindparam("registration_id"),
        _PEOPLE.c.subject.in_(bindparam("subjects", expanding=True)),
    )
)  # fmt: skip
_IDS = select(_PEOPLE.c.subject, _PEOPLE.c.id).where(
    _PEOPLE.c.registration_id == bindparam("registration_id"),
    _PEOPLE.c.subject.in_(bindparam("subjects", expanding=True)),
)
_STATUS = {
    "Active": EnrollmentStatus.ACTIVE,
    "Inactive": EnrollmentStatus.INACTIVE,
    "Deleted": EnrollmentStatus.DELETED,
}
#: Enrollments updated per statement when marking members who left.
_CHUNK = 500


def run_sync(session: Session, store: LaunchStorage, course_id: int, *, timeout: float) -> bool:
    """Read the whole roster of the course into the database; False if another run has it.

    A failure is recorded on the course's sync row in words; pages already read stay.
    """

    def body(sync: CourseSync, course: Course, registration: PlatformRegistration) -> None:
        if not course.memberships_url:
            raise RosterError(
                "The platform has not offered this course's roster (names and roles service)."
            )
        token = access_token(session, store, registration, [NRPS_SCOPE], timeout=timeout)
        url = str(course.memberships_url)
        session.commit()  # no transaction is held across a call to the platform
        seen: set[int] = set()
        for members in member_pages(url, token, timeout=timeout):
            written, person_ids = apply_page(session, course.id, registration.id, members)
            seen.update(person_ids)
            sync.pages += 1
            sync.items += len(members)
            sync.written += written
            session.commit()  # the page and the progress together
        sync.removed = mark_departed(session, course.id, seen)
        sync.written += sync.removed
        session.commit()

    return sync_jobs.run(session, course_id, SyncKind.ROSTER, body)


def apply_page(
    session: Session, course_id: int, registration_id: int, members: Iterable[Member]
) -> tuple[int, set[int]]:
    """Write one page's people and enrollments; returns (rows written, the people's ids).

    What the tool already holds for these members is read first, and only new or changed
    rows are sent (as conditional upserts, safe against a launch writing the same row):
    an unchanged page costs one read, and no row is written or even locked.
    """
    latest = {member.user_id: member for member in members}  # a platform may repeat someone
    if not latest:
        return 0, set()
    held = {row.subject: row for row in session.execute(
        _HELD, {"course_id": course_id, "registration_id": registration_id,
                "subjects": list(latest)},
    )}  # fmt: skip
    now = clock.now()
    changed_people = [m for user_id, m in latest.items() if _person_differs(m, held.get(user_id))]
    written, ids = _upsert_people(session, registration_id, changed_people, now)
    ids.update((subject, row.id) for subject, row in held.items())
    rows = []
    for user_id, m in latest.items():
        if user_id not in ids:
            continue
        wanted = {"role": map_roles(list(m.roles)), "lti_roles": list(m.roles),
                  "status": _STATUS[m.status]}  # fmt: skip
        row = held.get(user_id)
        if row is None or (row.role, row.lti_roles, row.status) != tuple(wanted.values()):
            rows.append({"course_id": course_id, "person_id": ids[user_id], **wanted,
                         "created_at": now, "updated_at": now})  # fmt: skip
    written += _upsert_enrollments(session, rows)
    newcomers = [ids[user_id] for user_id in latest if user_id in ids
                 and getattr(held.get(user_id), "role", None) is None]  # fmt: skip
    _record_joined(session, registration_id, course_id, rows=rows, newcomers=newcomers, at=now)
    return written, set(ids.values())


def _record_joined(
    session: Session,
    registration_id: int,
    course_id: int,
    *,
    rows: list[dict[str, Any]],
    newcomers: list[int],
    at: datetime,
) -> None:
    """A learner new to the course joined it (welcome rules start from this, even before
    they ever open the tool)."""
    active = EnrollmentStatus.ACTIVE
    learners = {row["person_id"] for row in rows
                if row["role"] == Role.LEARNER and row["status"] == active}  # fmt: skip
    joining = [person_id for person_id in newcomers if person_id in learners]
    if joining:
        events.record(session, events.joined(
            registration_id, course_id, joining, at=at, how="listed in the course roster",
        ))  # fmt: skip


def _person_differs(member: Member, row: Any) -> bool:
    """Whether writing the member would change the person (a field not sent keeps ours)."""
    if row is None:
        return True
    return any(
        member.personal.get(field) not in (None, getattr(row, column))
        for field, column in PERSONAL_FIELDS.items()
    )


def _upsert_people(
    session: Session, registration_id: int, members: list[Member], now: datetime
) -> tuple[int, dict[str, int]]:
    """Insert or update these people; returns (rows written, their ids by subject)."""
    if not members:
        return 0, {}
    rows = [
        {
            "registration_id": registration_id,
            "subject": m.user_id,
            "created_at": now,
            "updated_at": now,
            **{column: m.personal.get(field) for field, column in PERSONAL_FIELDS.items()},
        }
        for m in members
    ]
    upsert = _people_upsert(session.get_bind().dialect.name)
    ids: dict[str, int] = {row[0]: row[1] for row in session.execute(upsert, rows)}
    missing = [m.user_id for m in members if m.user_id not in ids]  # changed meanwhile
    if missing:
        ids.update(session.execute(_IDS, {"registration_id": registration_id,
                                          "subjects": missing}).all())  # fmt: skip
    return len(ids) - len(missing), ids


def _upsert_enrollments(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    upsert = _enrollments_upsert(session.get_bind().dialect.name)
    return len(session.execute(upsert, rows).all())


# Built once per dialect, sent for a whole page as multi-row VALUES ("insertmanyvalues"):
# a .values(rows) statement would be compiled anew for every page.
@functools.cache
def _people_upsert(dialect: str) -> Any:
    columns = list(PERSONAL_FIELDS.values())
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_PEOPLE)
    # A field the platform did not send keeps what we had (it chose not to share it).
    kept = {c: func.coalesce(statement.excluded[c], _PEOPLE.c[c]) for c in columns}
    return statement.on_conflict_do_update(
        index_elements=["registration_id", "subject"],
        set_={**kept, "updated_at": statement.excluded.updated_at},
        where=or_(*(kept[c].is_distinct_from(_PEOPLE.c[c]) for c in columns)),
    ).returning(_PEOPLE.c.subject, _PEOPLE.c.id)


@functools.cache
def _enrollments_upsert(dialect: str) -> Any:
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_ENROLLMENTS)
    excluded = statement.excluded
    as_json = (lambda c: sql_cast(c, JSONB)) if dialect == "postgresql" else (lambda c: c)
    return statement.on_conflict_do_update(
        index_elements=["course_id", "person_id"],
        set_={"role": excluded.role, "lti_roles": excluded.lti_roles,
              "status": excluded.status, "updated_at": excluded.updated_at},
        where=or_(
            _ENROLLMENTS.c.role.is_distinct_from(excluded.role),
            _ENROLLMENTS.c.status.is_distinct_from(excluded.status),
            # PostgreSQL's json has no equality; jsonb compares by value.
            as_json(_ENROLLMENTS.c.lti_roles).is_distinct_from(as_json(excluded.lti_roles)),
        ),
    ).returning(_ENROLLMENTS.c.id)  # fmt: skip


def mark_departed(session: Session, course_id: int, present: set[int]) -> int:
    """Mark deleted the enrollments of people no longer on the roster; returns how many.

    Platform and institution administrators who launched without being course members
    are left alone: the roster never lists them.
    """
    enrolled = session.execute(
        select(_ENROLLMENTS.c.person_id).where(
            _ENROLLMENTS.c.course_id == course_id,
            _ENROLLMENTS.c.status != EnrollmentStatus.DELETED,
            _ENROLLMENTS.c.role != Role.ADMIN,
        )
    ).scalars()
    departed = sorted(set(enrolled) - present)
    now = clock.now()
    for start in range(0, len(departed), _CHUNK):
        session.execute(
            update(_ENROLLMENTS)
            .where(
                _ENROLLMENTS.c.course_id == course_id,
                _ENROLLMENTS.c.person_id.in_(departed[start : start + _CHUNK]),
            )
            .values(status=EnrollmentStatus.DELETED, updated_at=now)
        )
    return len(departed)
