"""Operations services: heartbeats, the demo clock, readiness checks."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from celery import Celery
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.database import read_only, upsert
from lti_tool.extensions import db
from lti_tool.ops.models import DemoClockOffset, JobHeartbeat

_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def record_heartbeat(session: Session, name: str, hostname: str) -> None:
    """Note that the periodic job ``name`` ran now on ``hostname`` (safe to run twice)."""
    values = {"name": name, "beat_at": clock.now(), "hostname": hostname}
    upsert(session, JobHeartbeat, values, keys=["name"])
    session.commit()


def last_heartbeat(session: Session, name: str) -> JobHeartbeat | None:
    """The last recorded run of the periodic job ``name``, if any."""
    return session.get(JobHeartbeat, name)


def demo_clock_offset(session: Session) -> int:
    """Seconds the demo clock is ahead of real time."""
    offset = session.scalar(select(DemoClockOffset.offset_seconds).where(DemoClockOffset.id == 1))
    return offset or 0


def advance_demo_clock(session: Session, seconds: int) -> int:
    """Move the demo clock forward (or back to real time with a reset); return the offset."""
    if seconds < 0:
        raise ValueError("The demo clock only moves forward; reset it to return to real time.")
    offset = demo_clock_offset(session) + seconds
    upsert(session, DemoClockOffset, {"id": 1, "offset_seconds": offset}, keys=["id"])
    session.commit()
    return offset


def make_clock(app: Flask) -> clock.Clock:
    """The demo clock where enabled (never in production), else the system clock."""
    if not app.config["DEMO_CLOCK"] or app.config["ENV"] == "production":
        return clock.SystemClock()

    def read_offset() -> int:
        # Its own short read: telling the time must not join (or wait for) the caller's
        # transaction, which may be holding SQLite's write lock.
        with app.app_context(), db.engine.connect() as connection:
            return demo_clock_offset(Session(bind=read_only(connection)))

    return clock.DemoClock(read_offset)


def reset_demo_clock(session: Session) -> None:
    """Return the demo clock to real time."""
    upsert(session, DemoClockOffset, {"id": 1, "offset_seconds": 0}, keys=["id"])
    session.commit()


@dataclass(frozen=True)
class Check:
    """The outcome of one readiness check."""

    name: str
    ok: bool
    detail: str
    elapsed_ms: float


def check_database(engine: Engine) -> Check:
    """Can we open a connection and run a query?"""
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            read_only(connection).execute(text("SELECT 1"))
    except Exception as exc:
        return Check("database", False, f"database unreachable: {_describe(exc)}", _ms(started))
    return Check("database", True, "ok", _ms(started))


def check_broker(celery_app: Celery, instance_path: Path) -> Check:
    """Can we reach the broker (or, embedded, write to its folder)?"""
    started = time.perf_counter()
    url = celery_app.conf.broker_url
    try:
        if url.startswith("filesystem://"):
            folder = Path(celery_app.conf.broker_transport_options["data_folder_out"])
            probe = folder / ".readyz"
            probe.write_bytes(b"")
            probe.unlink()
        else:
            with celery_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
                connection.default_channel  # noqa: B018 (opening a channel talks to the broker)
    except Exception as exc:
        return Check("broker", False, f"broker unreachable: {_describe(exc)}", _ms(started))
    return Check("broker", True, "ok", _ms(started))


def heartbeat_age(session: Session, name: str, now: datetime) -> float | None:
    """Seconds since the periodic job last ran, or None if it never has."""
    beat = last_heartbeat(session, name)
    return None if beat is None else round((now - beat.beat_at).total_seconds(), 1)


def jobs_running(age: float | None, heartbeat_seconds: float) -> bool:
    """Whether the workers and beat look alive: a heartbeat within 8 of its intervals (2
    minutes by default; a beat can wait behind a long batch without a false alarm)."""
    return age is not None and age < 8 * heartbeat_seconds


def _describe(exc: BaseException) -> str:
    """The error's first line, without credentials, short enough for a probe."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return _CREDENTIALS.sub("***@", line)[:200]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
