"""One clock for the whole tool, replaceable in tests and fast-forwardable in the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import current_app, has_app_context


class Clock(Protocol):
    """Something that tells the time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """The time it was set to."""
        return self.at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.at += delta


class DemoClock:
    """The real time plus an offset the demo can move forward; never used in production.

    The offset is shared by web, worker and beat through the database; each process re-reads
    it at most once per ``cache_seconds``.
    """

    def __init__(self, read_offset: Callable[[], int], cache_seconds: float = 1.0) -> None:
        self._read_offset = read_offset
        self._cache_seconds = cache_seconds
        self._offset = 0
        self._read_at = float("-inf")

    def now(self) -> datetime:
        """The real time, moved forward by the demo's offset."""
        if time.monotonic() - self._read_at > self._cache_seconds:
            self._offset = self._read_offset()
            self._read_at = time.monotonic()
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def forget(self) -> None:
        """Re-read the offset on the next call."""
        self._read_at = float("-inf")


_SYSTEM = SystemClock()


def now() -> datetime:
    """The current time by the app's clock (the system clock outside an app)."""
    if has_app_context():
        clock: Clock = current_app.extensions.get("clock", _SYSTEM)
        return clock.now()
    return _SYSTEM.now()
