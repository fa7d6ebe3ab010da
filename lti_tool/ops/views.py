"""Health, readiness and the start page."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from lti_tool import clock
from lti_tool.courses.models import Course, Enrollment
from lti_tool.devplatform.directory import COURSES, USERS
from lti_tool.extensions import db
from lti_tool.ops.services import check_broker, check_database, heartbeat_age, jobs_running

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    """200 when the database and the broker answer; 503 naming what does not."""
    checks = [
        check_database(db.engine),
        check_broker(current_app.extensions["celery"], Path(current_app.instance_path)),
    ]
    failing = [check for check in checks if not check.ok]
    body: dict[str, object] = {
        "status": "unavailable" if failing else "ok",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.elapsed_ms} for c in checks},
    }
    if failing:
        body["error"] = "; ".join(check.detail for check in failing)
    else:
        # Informational: the web tier is ready even while workers restart (a learner's panel
        # and the statement endpoint do not need them), but it says whether they run.
        age = heartbeat_age(db.session(), "heartbeat", clock.now())
        running = jobs_running(age, current_app.config["JOBS_HEARTBEAT_SECONDS"])
        body["jobs"] = {"heartbeat_age_s": age, "running": running}
    return body, 503 if failing else 200


@bp.get("/")
def start() -> str:
    """What this is, whether its jobs run, and (in the demo) which course is set up."""
    courses = db.session.execute(
        select(Course.title, Course.label, func.count(Enrollment.id))
        .outerjoin(Course.enrollments)
        .group_by(Course.id)
        .order_by(Course.id)
        .limit(20)
    ).all()
    return render_template(
        "start.html",
        heartbeat_age=(age := heartbeat_age(db.session(), "heartbeat", clock.now())),
        jobs_running=jobs_running(age, current_app.config["JOBS_HEARTBEAT_SECONDS"]),
        courses=courses,
        env=current_app.config["ENV"],
        platform=_embedded_platform_directory(),
    )


def _embedded_platform_directory() -> dict[str, object] | None:
    """The embedded platform's courses and people, where it runs."""
    if "devplatform" not in current_app.blueprints:
        return None
    return {"courses": COURSES.values(), "users": USERS.values()}
