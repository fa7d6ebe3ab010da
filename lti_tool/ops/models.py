"""Operational state kept in the database so every process sees it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.database import Base, UTCDateTime


class JobHeartbeat(Base):
    """The last time a periodic job ran, so anyone can tell the workers are alive."""

    __tablename__ = "job_heartbeats"

    #: The job's name, e.g. ``heartbeat``.
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: When it last ran (tool clock).
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The worker host that ran it.
    hostname: Mapped[str] = mapped_column(String(255))


class DemoClockOffset(Base):
    """How far the demo has fast-forwarded time (one row; never used in production)."""

    __tablename__ = "demo_clock"

    #: Always 1.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Seconds added to the real time.
    offset_seconds: Mapped[int] = mapped_column(default=0)
