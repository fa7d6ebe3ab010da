"""The sweep that keeps every course's roster and grades fresh."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from lti_tool.courses import sync_jobs
from lti_tool.courses.syncs import SyncKind
from lti_tool.extensions import db


@shared_task(name="courses.sync_due")
def sync_due() -> list[tuple[str, int]]:
    """Queue rosters older than VM_ROSTER_SYNC_HOURS, grades older than
    VM_GRADES_READ_MINUTES, and runs that were lost."""
    config = current_app.config
    every = {
        SyncKind.ROSTER: timedelta(hours=config["ROSTER_SYNC_HOURS"]),
        SyncKind.GRADES: timedelta(minutes=config["GRADES_READ_MINUTES"]),
    }
    return sync_jobs.queue_due(db.session(), every)
