"""One clock: the system's, a fixed one for tests, the demo's with an offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lti_tool.clock import DemoClock, FixedClock, SystemClock, now


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC
    assert now().tzinfo is UTC


def test_fixed_clock_moves_only_when_told() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FixedClock(at)
    assert clock.now() == at
    clock.advance(timedelta(hours=3))
    assert clock.now() == at + timedelta(hours=3)


def test_demo_clock_reads_its_offset_at_most_once_per_interval() -> None:
    reads: list[int] = []

    def read_offset() -> int:
        reads.append(1)
        return 3600

    clock = DemoClock(read_offset, cache_seconds=60)
    first = clock.now()
    clock.now()
    assert len(reads) == 1
    assert timedelta(minutes=59) < first - datetime.now(UTC) <= timedelta(hours=1)
    clock.forget()
    clock.now()
    assert len(reads) == 2
