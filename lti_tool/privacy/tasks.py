"""Periodic purge of raw statements and sent outbox statements past their retention."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task
from flask import current_app

from lti_tool.extensions import db
from lti_tool.privacy import retention


@shared_task(name="privacy.purge_expired")
def purge_expired() -> dict[str, int]:
    """Purge what VM_XAPI_RETENTION_DAYS and VM_XAPI_OUTBOX_RETENTION_DAYS no longer keep;
    safe to run twice (a second run finds nothing)."""
    settings = retention.Retention.from_config(current_app.config)
    return asdict(retention.purge(db.session(), settings))
