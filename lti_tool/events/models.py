"""The learning event: who did what, with what result, when, according to which source."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool import clock
from lti_tool.columns import BigId, enum_column
from lti_tool.database import Base, UTCDateTime


class EventSource(StrEnum):
    """Where a learning event came from."""

    AGS = "ags"  # a result in the platform's grade book (LTI assignment and grade services)
    XAPI = "xapi"  # a statement a source sent to POST|PUT /xapi/statements
    MOODLE = "moodle"  # a completion read from Moodle's web services
    CANVAS = "canvas"  # a completion read from the Canvas API
    LTI = "lti"  # the learner joined a course: their first launch there, or a roster listing


class LearningEvent(Base):
    """Something a learner did, normalised; the same happening is recorded once.

    An event whose learner is not known yet keeps ``actor`` (how the source named them)
    with no person, to be resolved when they launch or appear in a roster.
    """

    __tablename__ = "learning_events"
    __table_args__ = (
        # The hand-off queue: only events waiting to be handed off, in order.
        Index(
            "ix_learning_events_waiting", "id",
            postgresql_where=text("handed_off_at IS NULL AND person_id IS NOT NULL"),
            sqlite_where=text("handed_off_at IS NULL AND person_id IS NOT NULL"),
        ),
        # Inactivity rules: each learner's last event on a topic, per course, read from the
        # index alone (it also serves every look-up by topic).
        Index("ix_learning_events_topic_activity", "topic_id", "course_id", "person_id",
              "occurred_at"),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Unique per happening (e.g. the result and its score), so nothing counts twice.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    #: The platform (tenant) whose learner did it: scopes every query about it.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: The course it happened in, once known (a statement may not say).
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    #: The learner, once resolved.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    #: How the source named the learner (kept until resolved, and for the record).
    actor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The verb IRI (xAPI vocabulary), e.g. http://adlnet.gov/expapi/verbs/scored.
    verb: Mapped[str] = mapped_column(String(255))
    #: The activity's IRI (for a grade: the line item's URL).
    activity_id: Mapped[str] = mapped_column(String(2048))
    #: The activity's name, as the source shows it.
    activity_name: Mapped[str] = mapped_column(String(500), default="")
    #: Completed, if the source says.
    completion: Mapped[bool | None]
    #: Passed, if the source says.
    success: Mapped[bool | None]
    #: The raw score, its maximum, and the score scaled to 0..1 where both are known.
    score_raw: Mapped[float | None]
    score_max: Mapped[float | None]
    score_scaled: Mapped[float | None]
    #: When it happened (the source's time, else when we learned of it).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Where it came from.
    source: Mapped[EventSource] = mapped_column(enum_column(EventSource, "event_source"))
    #: What the source sent, as it sent it.
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: When the tool recorded it.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: What was taught, found from the activity when the event was handed off.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    #: When it was handed to the mentoring engine (empty while it waits).
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<LearningEvent {self.id} {self.verb} {self.activity_id!r}>"
