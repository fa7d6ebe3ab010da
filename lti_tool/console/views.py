"""Mentor and instructor pages (thin views over the mentoring services)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import bindparam, func, select

from lti_tool.courses import sync_jobs
from lti_tool.courses.models import Enrollment, EnrollmentStatus, Role
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.extensions import db
from lti_tool.lms.connections import active_for
from lti_tool.lti.access import launch_required

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
_SYNCS = select(CourseSync).where(CourseSync.course_id == bindparam("course_id"))
#: What each sync is called on the console, and what it counts.
_WORDS = {
    SyncKind.ROSTER: {"name": "roster", "Name": "Roster", "unit": "member",
                      "reading": "Reading the roster: page {pages}, {items} so far…",
                      "done": "{items}, {written} changes saved"},
    SyncKind.GRADES: {"name": "grade book", "Name": "Grade book", "unit": "result",
                      "reading": "Reading the grade book: line item {pages}, {items} so far…",
                      "done": "{items}, {written} new learning events"},
    SyncKind.COMPLETIONS: {"name": "completions", "Name": "Completions", "unit": "completion",
                           "reading": "Reading completions from the LMS: learner {pages}, "
                                      "{items} so far…",
                           "done": "{items}, {written} new learning events"},
}  # fmt: skip
#: Shown even before their first run; completions only where an LMS connection reads them.
_ALWAYS = (SyncKind.ROSTER, SyncKind.GRADES)


@bp.get("/")
@launch_required(*STAFF)
def home() -> str:
    """Where instructors and mentors land after launch."""
    course_id = g.launch.course.id
    return render_template(
        "console/home.html", learners=_learners(course_id), syncs=_statuses(course_id)
    )


@bp.post("/sync/<kind>")
@launch_required(*STAFF)
def start_sync(kind: str) -> ResponseReturnValue:
    """Read the course's roster, grade book or completions now (one run at a time)."""
    if kind not in SyncKind.__members__.values():
        abort(404)
    if (
        kind == SyncKind.COMPLETIONS
        and active_for(db.session(), g.launch.context.registration_id) is None
    ):
        abort(404)  # completions are read only through the platform's LMS connection
    sync_jobs.request(db.session(), g.launch.course.id, SyncKind(kind))
    return redirect(url_for("console.home", lt=g.launch.token, _anchor=f"sync-{kind}"), 303)


@bp.get("/syncs.json")
@launch_required(*STAFF)
def syncs_json() -> ResponseReturnValue:
    """Where the course's syncs stand, and the learner count they change (the console polls
    it while a sync runs)."""
    course_id = g.launch.course.id
    return jsonify({"syncs": _statuses(course_id), "learners": _learners(course_id)})


def _learners(course_id: int) -> str:
    count = int(db.session.scalar(_LEARNERS, {"course_id": course_id}) or 0)
    return f"{count:,} learner{'' if count == 1 else 's'} in this course."


def _statuses(course_id: int) -> dict[str, dict[str, Any]]:
    rows = {sync.kind: sync for sync in db.session.scalars(_SYNCS, {"course_id": course_id})}
    return {kind.value: sync_status(kind, rows.get(kind)) for kind in SyncKind
            if kind in _ALWAYS or kind in rows}  # fmt: skip


def sync_status(kind: SyncKind, sync: CourseSync | None) -> dict[str, Any]:
    """A sync's state and a sentence an instructor can read."""
    words = _WORDS[kind]
    if sync is None:
        text = f"The {words['name']} has not been read from the platform yet."
        return {"state": "never", "busy": False, "name": words["Name"], "text": text}
    numbers = {
        "pages": sync.pages,
        "items": f"{sync.items:,} {words['unit']}{'' if sync.items == 1 else 's'}",
        "written": f"{sync.written:,}",
    }
    texts = {
        SyncStatus.QUEUED: f"Waiting for a worker to read the {words['name']}…",
        SyncStatus.RUNNING: words["reading"].format(**numbers),
        SyncStatus.DONE: f"{words['Name']} read{_when(sync)}: "
        + words["done"].format(**numbers) + ".",
        SyncStatus.FAILED: f"The last {words['name']} read{_when(sync)} failed: {sync.error}",
    }  # fmt: skip
    return {"state": sync.status.value, "name": words["Name"],
            "busy": sync.status in (SyncStatus.QUEUED, SyncStatus.RUNNING),
            "text": texts[sync.status], "pages": sync.pages, "items": sync.items,
            "written": sync.written, "removed": sync.removed}  # fmt: skip


def _when(sync: CourseSync) -> str:
    finished = sync.finished_at
    return f" on {finished:%d %b %Y at %H:%M} UTC" if finished else ""


# The console's other pages register their routes on ``bp``; imported last, as they import it.
from lti_tool.console import inbox, plans, results, roster, sessions, sessions_new, snippet_pages  # noqa: E402, F401
