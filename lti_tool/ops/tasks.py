"""Periodic jobs of the operations module."""

from __future__ import annotations

import socket

from celery import shared_task

from lti_tool.extensions import db
from lti_tool.ops.services import record_heartbeat


@shared_task(name="ops.heartbeat")
def heartbeat(name: str = "heartbeat") -> None:
    """Record that beat and a worker are alive (the start page and /readyz show it)."""
    record_heartbeat(db.session(), name, socket.gethostname())
