"""The roster sync job."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from lti_tool.extensions import db
from lti_tool.lti.storage import storage


@shared_task(name="roster.sync")
def sync_roster(course_id: int) -> bool:
    """Read the course's whole roster from its platform (False if another run has it)."""
    from lti_tool.roster.services import run_sync  # noqa: PLC0415 (services send this task)

    timeout = current_app.config["LTI_HTTP_TIMEOUT_SECONDS"]
    return run_sync(db.session(), storage(), course_id, timeout=timeout)
