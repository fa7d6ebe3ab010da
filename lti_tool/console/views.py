"""Mentor and instructor pages (thin views over the mentoring services)."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from sqlalchemy import bindparam, func, select

from lti_tool.courses.models import Enrollment, EnrollmentStatus, Role
from lti_tool.extensions import db
from lti_tool.lti.access import launch_required

bp = Blueprint("console", __name__, url_prefix="/console")

_LEARNERS = (
    select(func.count())
    .select_from(Enrollment)
    .where(
        Enrollment.course_id == bindparam("course_id"),
        Enrollment.role == Role.LEARNER,
        Enrollment.status == EnrollmentStatus.ACTIVE,
    )
)


@bp.get("/")
@launch_required(Role.INSTRUCTOR, Role.MENTOR, Role.ADMIN)
def home() -> str:
    """Where instructors and mentors land after launch."""
    learners = db.session.scalar(_LEARNERS, {"course_id": g.launch.course.id})
    return render_template("console/home.html", learners=learners)
