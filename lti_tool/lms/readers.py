"""What a completion reader hands back, whichever LMS it reads: per learner, the completions
the LMS shows, each with the key that makes it one happening."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"


@dataclass(frozen=True)
class Completion:
    """One completion an LMS shows: a learning event once recorded."""

    #: Unique per happening: reading it again records nothing new.
    key: str
    verb: str
    #: The LMS's own URL of the activity (or of the course).
    activity_id: str
    activity_name: str
    #: Passed (True), failed (False), or not said (None).
    success: bool | None
    #: When the LMS says it happened (None: it does not say; the time it was read is used).
    occurred_at: datetime | None
    #: What the LMS sent about it.
    raw: dict[str, Any]


@dataclass(frozen=True)
class LearnerCompletions:
    """A learner's completions in a course, as one LMS call (or a few) showed them."""

    #: The learner's LTI ``sub`` on the platform (the person's subject).
    subject: str
    completions: list[Completion]
    #: The LMS's own user id when it differs from ``sub`` and was just learned (Canvas).
    lms_user_id: str | None = None


@dataclass(frozen=True)
class KnownLearner:
    """A learner of the course the tool knows (from the roster or a launch)."""

    subject: str
    lms_user_id: str | None


@dataclass(frozen=True)
class CourseToRead:
    """The course a reader reads, and what the tool knows of it."""

    registration_id: int
    #: The LTI context id (Moodle's course id; Canvas's ``lti_context_id``).
    context_id: str
    learners: list[KnownLearner] = field(default_factory=list)


def from_epoch(seconds: Any) -> datetime | None:
    """A Unix time as an aware UTC datetime; None for 0, missing or not a number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def whole_id(value: Any) -> bool:
    """Whether a JSON value is an LMS's numeric id (a positive whole number)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
