"""The sweep that keeps every course's roster, grades and completions fresh."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from lti_tool.courses import sync_jobs
from lti_tool.courses.syncs import SyncKind
from lti_tool.extensions import db
from lti_tool.lms.connections import queue_new_courses


@shared_task(name="courses.sync_due")
def sync_due() -> list[tuple[str, int]]:
    """Queue rosters older than VM_ROSTER_SYNC_HOURS, grades older than
    VM_GRADES_READ_MINUTES, completions older than VM_LMS_POLL_SECONDS (and the first of
    courses whose platform has an LMS connection), and runs that were lost."""
    config = current_app.config
    every = {
        SyncKind.ROSTER: timedelta(hours=config["ROSTER_SYNC_HOURS"]),
        SyncKind.GRADES: timedelta(minutes=config["GRADES_READ_MINUTES"]),
        SyncKind.COMPLETIONS: timedelta(seconds=config["LMS_POLL_SECONDS"]),
    }
    session = db.session()
    first = [(SyncKind.COMPLETIONS.value, course_id) for course_id in queue_new_courses(session)]
    return first + sync_jobs.queue_due(session, every)
