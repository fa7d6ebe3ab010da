"""Waking the dispatcher soon after a commit that made a delivery due now, so a zero-offset
step reaches the panel in about a second rather than at the next periodic sweep."""

from __future__ import annotations

from lti_tool.jobs import Waker

TASK = "mentoring.dispatch"
#: A wake-up starts this long after it is sent; commits in between ride on it.
WAKE_DELAY = 0.05


#: Wakes the dispatcher after commits that made a delivery due now.
WAKER = Waker(TASK, WAKE_DELAY)


def dispatcher_after_commit() -> None:
    """Have the dispatcher run soon after the current transaction commits."""
    WAKER.after_commit()
