"""Periodic jobs of the operations module."""

from __future__ import annotations

import logging
import socket
from typing import Any

from celery import shared_task
from celery.signals import beat_init

from lti_tool.extensions import db
from lti_tool.ops.services import record_heartbeat

log = logging.getLogger(__name__)


@shared_task(name="ops.heartbeat")
def heartbeat(name: str = "heartbeat") -> None:
    """Record that beat and a worker are alive (the start page and /readyz show it)."""
    record_heartbeat(db.session(), name, socket.gethostname())
    log.info("Heartbeat %s recorded", name)


@beat_init.connect
def _first_heartbeat_at_start(sender: Any = None, **_kwargs: Any) -> None:
    """Beat's schedule first fires one interval after start; show life straight away."""
    heartbeat.delay()
