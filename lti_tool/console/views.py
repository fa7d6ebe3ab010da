"""Mentor and instructor pages (thin views over the mentoring services)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import bindparam, func, select

from lti_tool.courses.models import Enrollment, EnrollmentStatus, Role
from lti_tool.extensions import db
from lti_tool.lti.access import launch_required
from lti_tool.roster.models import RosterSync
from lti_tool.roster.services import request_sync

bp = Blueprint("console", __name__, url_prefix="/console")
STAFF = (Role.INSTRUCTOR, Role.MENTOR, Role.ADMIN)

_LEARNERS = (
    select(func.count())
    .select_from(Enrollment)
    .where(
        Enrollment.course_id == bindparam("course_id"),
        Enrollment.role == Role.LEARNER,
        Enrollment.status == EnrollmentStatus.ACTIVE,
    )
)
_SYNC = select(RosterSync).where(RosterSync.course_id == bindparam("course_id"))


@bp.get("/")
@launch_required(*STAFF)
def home() -> str:
    """Where instructors and mentors land after launch."""
    course_id = g.launch.course.id
    learners = db.session.scalar(_LEARNERS, {"course_id": course_id})
    sync = db.session.scalar(_SYNC, {"course_id": course_id})
    return render_template("console/home.html", learners=learners, roster=roster_status(sync))


@bp.post("/roster/sync")
@launch_required(*STAFF)
def sync_roster() -> ResponseReturnValue:
    """Read the course's roster from the platform now (one run at a time)."""
    request_sync(db.session(), g.launch.course.id)
    return redirect(url_for("console.home", lt=g.launch.token, _anchor="roster"), code=303)


@bp.get("/roster.json")
@launch_required(*STAFF)
def roster_json() -> ResponseReturnValue:
    """Where the roster sync stands (the console polls it while a sync runs)."""
    sync = db.session.scalar(_SYNC, {"course_id": g.launch.course.id})
    return jsonify(roster_status(sync))


def roster_status(sync: RosterSync | None) -> dict[str, Any]:
    """The sync's state and a sentence an instructor can read."""
    if sync is None:
        return {"state": "never", "busy": False,
                "text": "The roster has not been read from the platform yet."}  # fmt: skip
    members = f"{sync.members:,} member{'' if sync.members == 1 else 's'}"
    texts = {
        "queued": "Waiting for a worker to read the roster…",
        "running": f"Reading the roster: page {sync.pages}, {members} so far…",
        "done": f"Roster read{_when(sync)}: {members}, "
        f"{sync.written:,} change{'' if sync.written == 1 else 's'}.",
        "failed": f"The last roster sync{_when(sync)} failed: {sync.error}",
    }
    return {"state": sync.status.value, "busy": sync.status.value in ("queued", "running"),
            "text": texts[sync.status.value], "pages": sync.pages, "members": sync.members,
            "written": sync.written, "removed": sync.removed}  # fmt: skip


def _when(sync: RosterSync) -> str:
    finished = sync.finished_at
    return f" on {finished:%d %b %Y at %H:%M} UTC" if finished else ""
