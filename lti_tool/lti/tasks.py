"""Periodic LTI housekeeping."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from lti_tool.lti.storage import DatabaseStorage


@shared_task(name="lti.purge_storage")
def purge_storage() -> int:
    """Delete expired launch-storage rows (Redis expires its own)."""
    store = current_app.extensions["lti_storage"]
    return store.purge_expired() if isinstance(store, DatabaseStorage) else 0
