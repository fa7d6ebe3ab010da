"""The grade-book reading job."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from lti_tool.extensions import db
from lti_tool.lti.storage import storage


@shared_task(name="grades.read")
def read_grades(course_id: int) -> bool:
    """Read the course's line items and results into learning events."""
    from lti_tool.grades.services import read_course  # noqa: PLC0415 (services send this task)

    timeout = current_app.config["LTI_HTTP_TIMEOUT_SECONDS"]
    return read_course(db.session(), storage(), course_id, timeout=timeout)
