"""Where each course's syncs with its platform stand (roster, grades, completions),
for the instructor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime


class SyncKind(StrEnum):
    """What is read from the platform."""

    ROSTER = "roster"  # names and roles
    GRADES = "grades"  # line items and results
    COMPLETIONS = "completions"  # activity and course completions, from an LMS connection


class SyncStatus(StrEnum):
    """Where a sync is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CourseSync(Timestamps, Base):
    """One kind of sync of one course: its progress now, and how the last run ended."""

    __tablename__ = "course_syncs"
    __table_args__ = (UniqueConstraint("course_id", "kind"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course (one row per course and kind, reused by every run).
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    #: roster, grades or completions.
    kind: Mapped[SyncKind] = mapped_column(enum_column(SyncKind, "course_sync_kind"))
    #: queued, running, done or failed.
    status: Mapped[SyncStatus] = mapped_column(
        enum_column(SyncStatus, "course_sync_status"), default=SyncStatus.QUEUED
    )
    #: When the run was asked for (a launch, the schedule, or a person).
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the current or last run started.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the last run ended (done or failed).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Pages read so far in this run.
    pages: Mapped[int] = mapped_column(default=0)
    #: Items read so far in this run (roster members, grade results, learners).
    items: Mapped[int] = mapped_column(default=0)
    #: Rows the run inserted or changed; 0 when nothing changed.
    written: Mapped[int] = mapped_column(default=0)
    #: Roster members no longer listed, marked deleted by the run.
    removed: Mapped[int] = mapped_column(default=0)
    #: Why the last run failed, in words for the instructor.
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<CourseSync {self.kind} of course {self.course_id}: {self.status}>"
