"""The completion reading job."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from lti_tool.extensions import db


@shared_task(name="lms.read_completions")
def read_completions(course_id: int) -> bool:
    """Read the course's completions from its platform's LMS connection."""
    from lti_tool.lms.services import ReadSettings, read_course  # noqa: PLC0415 (services send this task)

    return read_course(db.session(), course_id, ReadSettings.from_config(current_app.config))
