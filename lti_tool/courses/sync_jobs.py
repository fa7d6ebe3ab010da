"""Running a course's syncs with its platform (roster, grades, completions): queue, claim,
finish, sweep.

One row per course and kind (``course_syncs``) says where the sync stands. A run is
claimed with one conditional UPDATE, so two workers never read the same course at once;
its failure is kept in words for the instructor; beat's sweep re-queues syncs that are
due, whose task never arrived, or whose worker died.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Course
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.grades.tasks import read_grades
from lti_tool.jobs import enqueue_after_commit
from lti_tool.lms.tasks import read_completions
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.lti.service_auth import ServiceAuthError
from lti_tool.roster.tasks import sync_roster

log = logging.getLogger(__name__)
TASKS: Mapping[SyncKind, Any] = {
    SyncKind.ROSTER: sync_roster,
    SyncKind.GRADES: read_grades,
    SyncKind.COMPLETIONS: read_completions,
}
#: A queued sync whose task never arrived, or a running one whose worker died, is retried.
STALE_QUEUED = timedelta(minutes=10)
STALE_RUNNING = timedelta(hours=1)
_SYNCS = cast(Table, CourseSync.__table__)


class SyncError(Exception):
    """A sync could not finish; the message says why, in words for the instructor."""


def request_first(session: Session, course_id: int, kind: SyncKind) -> None:
    """Queue the course's first sync of this kind (later ones come from the schedule)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = clock.now()
    row = session.execute(
        insert(_SYNCS)
        .values(course_id=course_id, kind=kind, status=SyncStatus.QUEUED, requested_at=now,
                created_at=now, updated_at=now, pages=0, items=0, written=0, removed=0)
        .on_conflict_do_nothing(index_elements=["course_id", "kind"])
        .returning(_SYNCS.c.id)
    ).first()  # fmt: skip
    if row is not None:
        enqueue_after_commit(TASKS[kind], course_id)


def request(session: Session, course_id: int, kind: SyncKind) -> CourseSync:
    """Queue a sync now (a person asked); one already queued or running is left to run."""
    sync = session.scalar(select(CourseSync).filter_by(course_id=course_id, kind=kind))
    if sync is None:
        sync = CourseSync(course_id=course_id, kind=kind, requested_at=clock.now())
        session.add(sync)
    elif sync.status in (SyncStatus.QUEUED, SyncStatus.RUNNING):
        return sync
    sync.status, sync.requested_at, sync.error = SyncStatus.QUEUED, clock.now(), None
    session.flush()
    enqueue_after_commit(TASKS[kind], course_id)
    session.commit()
    return sync


def queue_due(session: Session, every: Mapping[SyncKind, timedelta]) -> list[tuple[str, int]]:
    """Queue the syncs older than ``every`` says, and retry lost or dead runs."""
    now = clock.now()
    due = session.scalars(
        select(CourseSync).where(
            CourseSync.kind.in_(list(every)),
            or_(
                *(
                    and_(
                        CourseSync.kind == kind,
                        CourseSync.status.in_([SyncStatus.DONE, SyncStatus.FAILED]),
                        CourseSync.finished_at < now - interval,
                    )
                    for kind, interval in every.items()
                ),
                and_(
                    CourseSync.status == SyncStatus.QUEUED,
                    CourseSync.requested_at < now - STALE_QUEUED,
                ),
                and_(
                    CourseSync.status == SyncStatus.RUNNING,
                    CourseSync.started_at < now - STALE_RUNNING,
                ),
            ),
        )
    ).all()
    for sync in due:
        sync.status, sync.requested_at = SyncStatus.QUEUED, now
        enqueue_after_commit(TASKS[sync.kind], sync.course_id)
    session.commit()
    return [(sync.kind.value, sync.course_id) for sync in due]


def run(session: Session, course_id: int, kind: SyncKind, body: Callable[..., None]) -> bool:
    """Claim the sync and run ``body(sync, course, registration)``; False if another has it.

    A ``SyncError`` or ``ServiceAuthError`` ends the run failed, its message kept.
    """
    sync = _claim(session, course_id, kind)
    if sync is None:
        return False
    try:
        course, registration = _course_and_registration(session, course_id)
        body(sync, course, registration)
    except (SyncError, ServiceAuthError) as exc:
        session.rollback()
        _finish(session, course_id, kind, SyncStatus.FAILED, str(exc))
        log.warning("The %s sync of course %s failed: %s", kind.value, course_id, exc)
        return True
    _finish(session, course_id, kind, SyncStatus.DONE, None)
    return True


def _course_and_registration(
    session: Session, course_id: int
) -> tuple[Course, PlatformRegistration]:
    course = session.get(Course, course_id)
    registration = None
    if course is not None:
        registration = session.scalar(
            select(PlatformRegistration)
            .join(Deployment, Deployment.registration_id == PlatformRegistration.id)
            .where(Deployment.id == course.deployment_id)
        )
    if course is None or registration is None:
        raise SyncError("The course is no longer known to the tool.")
    return course, registration


def _claim(session: Session, course_id: int, kind: SyncKind) -> CourseSync | None:
    """Mark the sync running unless another worker is running it (atomic)."""
    now = clock.now()
    claimed = session.execute(
        update(CourseSync)
        .where(
            CourseSync.course_id == course_id,
            CourseSync.kind == kind,
            or_(CourseSync.status != SyncStatus.RUNNING,
                CourseSync.started_at < now - STALE_RUNNING),
        )
        .values(status=SyncStatus.RUNNING, started_at=now, pages=0, items=0, written=0,
                removed=0, error=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.commit()
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return session.scalar(select(CourseSync).filter_by(course_id=course_id, kind=kind))


def _finish(
    session: Session, course_id: int, kind: SyncKind, status: SyncStatus, error: str | None
) -> None:
    now = clock.now()
    session.execute(
        update(CourseSync)
        .where(CourseSync.course_id == course_id, CourseSync.kind == kind)
        .values(status=status, finished_at=now, error=error, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.expire_all()  # objects stay loaded after commit here; the row just changed
