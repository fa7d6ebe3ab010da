"""Roster sync jobs: one course on demand, and the periodic sweep that keeps rosters fresh."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from lti_tool.extensions import db
from lti_tool.lti.storage import storage


@shared_task(name="roster.sync")
def sync_roster(course_id: int) -> bool:
    """Read the course's whole roster from its platform (False if another run has it)."""
    from lti_tool.roster.services import run_sync  # noqa: PLC0415 (services sends this task)

    timeout = current_app.config["LTI_HTTP_TIMEOUT_SECONDS"]
    return run_sync(db.session(), storage(), course_id, timeout=timeout)


@shared_task(name="roster.sync_due")
def sync_due_rosters() -> list[int]:
    """Queue rosters older than VM_ROSTER_SYNC_HOURS, and runs that were lost."""
    from lti_tool.roster.services import queue_due_syncs  # noqa: PLC0415 (as above)

    hours = current_app.config["ROSTER_SYNC_HOURS"]
    return queue_due_syncs(db.session(), timedelta(hours=hours))
