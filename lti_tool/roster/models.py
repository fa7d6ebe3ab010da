"""Where each course's roster sync stands, so the instructor can see it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime


class SyncStatus(StrEnum):
    """Where a roster sync is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RosterSync(Timestamps, Base):
    """The roster sync of one course: its progress now, and how the last run ended."""

    __tablename__ = "roster_syncs"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The course (one row per course, reused by every run).
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    #: queued, running, done or failed.
    status: Mapped[SyncStatus] = mapped_column(
        enum_column(SyncStatus, "roster_sync_status"), default=SyncStatus.QUEUED
    )
    #: When the run was asked for (first instructor launch, the schedule, or a person).
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the current or last run started.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the last run ended (done or failed).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Pages read so far in this run.
    pages: Mapped[int] = mapped_column(default=0)
    #: Members read so far in this run.
    members: Mapped[int] = mapped_column(default=0)
    #: Rows the run inserted or changed (people and enrollments); 0 when nothing changed.
    written: Mapped[int] = mapped_column(default=0)
    #: Members no longer on the platform's roster, marked deleted by the run.
    removed: Mapped[int] = mapped_column(default=0)
    #: Why the last run failed, in words for the instructor.
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<RosterSync course {self.course_id} {self.status}>"
