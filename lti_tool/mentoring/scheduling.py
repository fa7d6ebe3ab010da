"""When a delivery may go out, decided without Flask or a database: opt-outs, quiet hours in
the learner's time zone, a daily cap. Every "not now" carries the reason in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lti_tool.mentoring import reasons


@dataclass(frozen=True)
class Policy:
    """One learner's rules for being followed up."""

    zone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    opted_out: frozenset[str] = field(default_factory=frozenset)
    daily_cap: int | None = None
    #: Channels besides the panel they want copies by (``email``…).
    channels: frozenset[str] = field(default_factory=frozenset)


class Verdict(StrEnum):
    """What the dispatcher does with a due delivery."""

    DELIVER = "deliver"
    HOLD = "hold"
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    """A verdict, when to try again (held) and why (held or skipped)."""

    verdict: Verdict
    until: datetime | None = None
    reason: str = ""


def parse_hhmm(value: str | None) -> time | None:
    """``"21:30"`` as a time; empty or none: none. Raises ValueError for anything else."""
    if not value:
        return None
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def zone_of(name: str | None) -> ZoneInfo:
    """The named IANA zone; UTC when unnamed or unknown (a bad value never blocks sending)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def quiet_until(now: datetime, policy: Policy) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (UTC), or none if it is not quiet."""
    start, end = policy.quiet_start, policy.quiet_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone_of(policy.zone))
    at = local.time().replace(tzinfo=None)
    overnight = start > end
    quiet = (at >= start or at < end) if overnight else (start <= at < end)
    if not quiet:
        return None
    day = local.date() + timedelta(days=1) if overnight and at >= start else local.date()
    return datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(UTC)


def next_local_midnight(now: datetime, zone: str) -> datetime:
    """The start of the learner's next day (UTC)."""
    local = now.astimezone(zone_of(zone))
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=local.tzinfo).astimezone(UTC)


def local_day_start(now: datetime, zone: str) -> datetime:
    """The start of the learner's current day (UTC), for counting today's messages."""
    local = now.astimezone(zone_of(zone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo).astimezone(UTC)


def decide(now: datetime, policy: Policy, category: str, delivered_today: int) -> Decision:
    """Deliver now, hold until later, or skip, with the reason a learner can read."""
    if category in policy.opted_out:
        return Decision(Verdict.SKIP, reason=reasons.write(reasons.OPTED_OUT, category=category))
    if (until := quiet_until(now, policy)) is not None:
        return Decision(Verdict.HOLD, until, _quiet_reason(until, policy))
    cap = policy.daily_cap
    if cap is not None and delivered_today >= cap:
        until = next_local_midnight(now, policy.zone)
        template = reasons.CAP_ONE if cap == 1 else reasons.CAP
        said = reasons.write(template, until=_local(until, policy.zone), cap=cap)
        return Decision(Verdict.HOLD, until, said)
    return Decision(Verdict.DELIVER)


def _quiet_reason(until: datetime, policy: Policy) -> str:
    return reasons.write(reasons.QUIET, until=_local(until, policy.zone),
                         start=f"{policy.quiet_start:%H:%M}", end=f"{policy.quiet_end:%H:%M}",
                         zone=policy.zone)  # fmt: skip


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(zone_of(zone)).strftime("%Y-%m-%d %H:%M")
