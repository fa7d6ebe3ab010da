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
from lti_tool.i18n import _, format_date, format_number, format_time, lazy_gettext, ngettext
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
#: What the console says of each sync, whole sentences so each language words them its way.
_WORDS = {
    SyncKind.ROSTER: {
        "name": lazy_gettext("Roster"), "read_now": lazy_gettext("Read the roster now"),
        "never": lazy_gettext("The roster has not been read from the platform yet."),
        SyncStatus.QUEUED: lazy_gettext("Waiting for a worker to read the roster…"),
        SyncStatus.RUNNING: lazy_gettext("Reading the roster: page %(pages)s, %(items)s so far…"),
        SyncStatus.DONE: lazy_gettext("Roster read%(when)s: %(items)s, %(written)s changes saved."),
        SyncStatus.FAILED: lazy_gettext("The last roster read%(when)s failed: %(error)s"),
    },
    SyncKind.GRADES: {
        "name": lazy_gettext("Grade book"), "read_now": lazy_gettext("Read the grade book now"),
        "never": lazy_gettext("The grade book has not been read from the platform yet."),
        SyncStatus.QUEUED: lazy_gettext("Waiting for a worker to read the grade book…"),
        SyncStatus.RUNNING: lazy_gettext("Reading the grade book: line item %(pages)s, "
                                         "%(items)s so far…"),
        SyncStatus.DONE: lazy_gettext("Grade book read%(when)s: %(items)s, %(written)s new "
                                      "learning events."),
        SyncStatus.FAILED: lazy_gettext("The last grade book read%(when)s failed: %(error)s"),
    },
    SyncKind.COMPLETIONS: {
        "name": lazy_gettext("Completions"), "read_now": lazy_gettext("Read the completions now"),
        "never": lazy_gettext("The completions have not been read from the platform yet."),
        SyncStatus.QUEUED: lazy_gettext("Waiting for a worker to read the completions…"),
        SyncStatus.RUNNING: lazy_gettext("Reading completions from the LMS: learner %(pages)s, "
                                         "%(items)s so far…"),
        SyncStatus.DONE: lazy_gettext("Completions read%(when)s: %(items)s, %(written)s new "
                                      "learning events."),
        SyncStatus.FAILED: lazy_gettext("The last completions read%(when)s failed: %(error)s"),
    },
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
    return ngettext("%(num)s learner in this course.", "%(num)s learners in this course.", count)


def _statuses(course_id: int) -> dict[str, dict[str, Any]]:
    rows = {sync.kind: sync for sync in db.session.scalars(_SYNCS, {"course_id": course_id})}
    return {kind.value: sync_status(kind, rows.get(kind)) for kind in SyncKind
            if kind in _ALWAYS or kind in rows}  # fmt: skip


def sync_status(kind: SyncKind, sync: CourseSync | None) -> dict[str, Any]:
    """A sync's state and a sentence an instructor can read."""
    words = _WORDS[kind]
    named = {"name": str(words["name"]), "read_now": str(words["read_now"])}
    if sync is None:
        return {"state": "never", "busy": False, "text": str(words["never"]), **named}
    numbers = {"pages": sync.pages, "items": _items(kind, sync.items), "when": _when(sync),
               "written": format_number(sync.written), "error": sync.error}  # fmt: skip
    return {"state": sync.status.value, **named,
            "busy": sync.status in (SyncStatus.QUEUED, SyncStatus.RUNNING),
            "text": str(words[sync.status]) % numbers, "pages": sync.pages, "items": sync.items,
            "written": sync.written, "removed": sync.removed}  # fmt: skip


def _items(kind: SyncKind, count: int) -> str:
    """What a sync read, counted in its unit ("300 members")."""
    if kind is SyncKind.ROSTER:
        return ngettext("%(num)s member", "%(num)s members", count)
    if kind is SyncKind.GRADES:
        return ngettext("%(num)s result", "%(num)s results", count)
    return ngettext("%(num)s completion", "%(num)s completions", count)


def _when(sync: CourseSync) -> str:
    finished = sync.finished_at
    if finished is None:
        return ""
    return " " + _("on %(date)s at %(time)s UTC", date=format_date(finished, "dd MMM y"),
                   time=format_time(finished, "HH:mm"))  # fmt: skip


# The console's other pages register their routes on ``bp``; imported last, as they import it.
from lti_tool.console import inbox, plans, results, roster, sessions, sessions_new, snippet_pages  # noqa: E402, F401
