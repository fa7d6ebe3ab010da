"""xAPI instants: read from statements, written as xAPI writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_instant(text: Any) -> datetime | None:
    """An xAPI timestamp as an aware UTC datetime, or None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def timestamp(moment: datetime) -> str:
    """An instant as xAPI writes it (UTC, milliseconds, rounded down so nothing is skipped)."""
    moment = moment.astimezone(UTC)
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
