"""Roster sync of a 10,000-member course (100 per page) from the embedded platform.

The platform is the tool's own embedded one, served over real HTTP on 127.0.0.1 by the
same process (its time is counted too). The sync is the worker's code path: access token,
every page followed through Link rel="next", conditional upserts, departures. Then the
same roster is synced again, and the rows that second run wrote are counted by the
database itself (row versions, xmin) and checked against the sync's own count; none
should be written, as nothing changed. Runs on PostgreSQL (VM_BENCH_DATABASE_URL,
default this machine's).
Figures: roster_10k (s), roster_resync (s), roster_resync_writes (rows).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import flask_migrate
from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from bench.database import bench_database
from bench.figures import Figure
from lti_tool import create_app
from lti_tool.courses.models import Course, Enrollment
from lti_tool.courses.syncs import CourseSync, SyncKind
from lti_tool.devplatform.services import register_with_tool
from lti_tool.extensions import close_connections, db
from lti_tool.lti.models import Deployment
from lti_tool.lti.storage import storage
from lti_tool.roster.services import run_sync

MEMBERS = 10_000
_VERSIONS = {
    "people": text("SELECT id, xmin::text FROM people"),
    "enrollments": text("SELECT id, xmin::text FROM enrollments"),
}


def _row_versions(session: Any, kind: str) -> dict[tuple[str, int], str]:
    """(table, id) -> row version, for people and enrollments (PostgreSQL's xmin)."""
    if kind != "PostgreSQL":
        return {}
    return {
        (table, row_id): version
        for table, query in _VERSIONS.items()
        for row_id, version in session.execute(query)
    }


def _changed(before: dict[tuple[str, int], str], after: dict[tuple[str, int], str]) -> int:
    return sum(1 for key, version in after.items() if before.get(key) != version)


def run() -> Iterator[Figure]:
    """Sync the generated roster twice; report both durations and the second one's writes."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        app = create_app({
            "ENV": "testing", "SECRET_KEY": "b" * 40, "INSTANCE_PATH": folder,
            "DATABASE_URL": url, "BROKER_URL": "memory://", "DEMO_CLOCK": False,
            "LTI_EMBEDDED_PLATFORM": True, "LOG_LEVEL": "WARNING",
        })  # fmt: skip
        with app.app_context():
            flask_migrate.upgrade()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with app.app_context():
            session = db.session()
            registration = register_with_tool(session, base)
            deployment = session.scalars(
                select(Deployment).where(Deployment.registration_id == registration.id)
            ).one()
            context = f"generated-{MEMBERS}"
            course = Course(deployment_id=deployment.id, context_id=context, title="Big course",
                            memberships_url=f"{base}/dev-platform/nrps/{context}")  # fmt: skip
            session.add(course)
            session.commit()
            course_id = course.id
            timings, versions = [], []
            for _ in range(2):
                versions.append(_row_versions(session, kind))
                session.add(
                    CourseSync(course_id=course_id, kind=SyncKind.ROSTER, requested_at=func.now())
                )
                session.commit()
                started = time.perf_counter()
                run_sync(session, storage(), course_id, timeout=10)
                timings.append(time.perf_counter() - started)
                sync = session.scalars(select(CourseSync)).one()
                assert sync.error is None, sync.error
                assert sync.items == MEMBERS, sync.items
                if len(timings) == 1:
                    enrolled = session.scalar(select(func.count()).select_from(Enrollment))
                    assert enrolled == MEMBERS, enrolled
                session.delete(sync)
                session.commit()
            # Rows the re-sync wrote, seen by the database itself: a new row version has a
            # new xmin (PostgreSQL); what the sync counted must agree.
            resync_writes = _changed(versions[1], _row_versions(session, kind))
            assert resync_writes == sync.written, (resync_writes, sync.written)
        server.shutdown()
        with app.app_context():
            close_connections()
    print(f"# roster on {kind}: {MEMBERS} members, {sync.pages} pages", flush=True)
    yield Figure("roster_10k", timings[0], "s")
    yield Figure("roster_resync", timings[1], "s")
    yield Figure("roster_resync_writes", resync_writes, "rows")
