"""The roster sync as instructors meet it: queued by their first launch, shown on the
console with its progress, started again on request, and kept fresh by the schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses import tasks
from lti_tool.courses.models import Course
from lti_tool.courses.sync_jobs import queue_due
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.lms import connections
from lti_tool.lms.models import LmsKind
from tests.helpers.platform import INSTRUCTOR, PlatformDouble, launch

NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
ROSTER = {"context_memberships_url": "https://lms.example.edu/nrps/course-1",
          "service_versions": ["2.0"]}  # fmt: skip


def _landing(client: FlaskClient, platform: PlatformDouble, *roles: str) -> str:
    response = launch(client, platform, lti_roles=list(roles), **{NRPS: ROSTER})
    assert response.status_code == 303
    return str(response.headers["Location"])


def _syncs(broker: Callable[[], list[object]]) -> list[object]:
    """What reached the broker but the engine's hand-off wake-ups."""
    flat = broker()
    pairs = [
        pair for pair in zip(flat[::2], flat[1::2], strict=True) if pair[0] != "events.hand_off"
    ]
    return [item for pair in pairs for item in pair]


def test_the_first_instructor_launch_queues_one_roster_sync(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    _landing(client, registered)  # a learner first: no sync for them
    assert _syncs(broker) == []  # (her joining may wake the hand-off to the engine)
    assert db.session.scalars(select(CourseSync)).all() == []
    _landing(client, registered, INSTRUCTOR)
    course_id = db.session.scalars(select(Course.id)).one()
    assert _syncs(broker) == ["roster.sync", [course_id]]
    _landing(client, registered, INSTRUCTOR)  # later launches leave it to the schedule
    assert _syncs(broker) == []
    sync = db.session.scalars(select(CourseSync)).one()
    assert sync.status is SyncStatus.QUEUED


def test_a_course_without_names_and_roles_queues_nothing(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    assert launch(client, registered, lti_roles=[INSTRUCTOR]).status_code == 303
    assert broker() == []


def test_the_console_shows_progress_and_can_start_a_sync(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    landing = _landing(client, registered, INSTRUCTOR)
    broker()
    page = client.get(landing).get_data(as_text=True)
    assert "Waiting for a worker to read the roster" in page
    assert "data-poll=" in page  # the page keeps itself up to date while it runs

    sync = db.session.scalars(select(CourseSync)).one()
    sync.status, sync.pages, sync.items = SyncStatus.RUNNING, 3, 300
    db.session.commit()
    status = client.get(landing.replace("/console/?", "/console/syncs.json?"))
    assert (
        status.json["syncs"]["roster"]["text"] == "Reading the roster: page 3, 300 members so far…"
    )
    assert status.json["syncs"]["roster"]["busy"] is True
    assert status.json["learners"] == "0 learners in this course."
    assert status.json["syncs"]["grades"]["text"] == (
        "The grade book has not been read from the platform yet.")  # fmt: skip

    sync.status, sync.error = SyncStatus.FAILED, "The platform refused the roster request."
    sync.finished_at = sync.started_at = sync.requested_at
    db.session.commit()
    page = client.get(landing).get_data(as_text=True)
    assert "roster read on" in page
    assert "failed: The platform refused the roster request." in page
    assert "data-poll=" not in page

    token = landing.split("lt=")[1]
    response = client.post("/console/sync/roster", data={"lt": token})
    assert response.status_code == 303
    assert broker() == ["roster.sync", [sync.course_id]]
    db.session.expire_all()
    assert db.session.get(CourseSync, sync.id).status is SyncStatus.QUEUED  # type: ignore[union-attr]


def test_errors_from_the_platform_are_escaped_on_the_console(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    landing = _landing(client, registered, INSTRUCTOR)
    sync = db.session.scalars(select(CourseSync)).one()
    sync.status, sync.error = SyncStatus.FAILED, "<script>alert(1)</script>"
    db.session.commit()
    page = client.get(landing).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_learners_cannot_see_or_start_the_sync(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    token = _landing(client, registered).split("lt=")[1]
    assert client.post("/console/sync/roster", data={"lt": token}).status_code == 403
    assert client.get("/console/syncs.json", query_string={"lt": token}).status_code == 403


def test_the_schedule_requeues_old_rosters_and_lost_runs(
    app: Flask, client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    _landing(client, registered, INSTRUCTOR)
    broker()
    sync = db.session.scalars(select(CourseSync)).one()
    every = {SyncKind.ROSTER: timedelta(hours=24)}
    assert queue_due(db.session(), every) == []  # queued just now
    sync.status = SyncStatus.DONE
    sync.finished_at = sync.requested_at - timedelta(hours=25)
    db.session.commit()
    # Through the app's own Celery, as beat would run it.
    due = app.extensions["celery"].tasks[tasks.sync_due.name].apply().get()
    assert due == [("roster", sync.course_id)]
    assert broker() == ["roster.sync", [sync.course_id]]


AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def test_an_instructor_launch_with_the_grade_book_queues_its_first_read(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    endpoint = {"lineitems": "https://lms.example.edu/ags/course-1/lineitems",
                "scope": [SCOPE + "lineitem.readonly", SCOPE + "result.readonly"]}  # fmt: skip
    landing = launch(client, registered, lti_roles=[INSTRUCTOR], **{AGS: endpoint})
    course_id = db.session.scalars(select(Course.id)).one()
    assert broker() == ["grades.read", [course_id]]
    page = client.get(landing.headers["Location"]).get_data(as_text=True)
    assert "Waiting for a worker to read the grade book" in page
    assert "Read the grade book now" in page


def test_a_grade_book_without_result_access_is_not_read(
    client: FlaskClient, registered: PlatformDouble, broker: Callable[[], list[object]]
) -> None:
    endpoint = {"lineitems": "https://lms.example.edu/ags/course-1/lineitems",
                "scope": [SCOPE + "score"]}  # fmt: skip
    launch(client, registered, lti_roles=[INSTRUCTOR], **{AGS: endpoint})
    assert broker() == []


def test_an_unknown_sync_kind_is_not_found(client: FlaskClient, registered: PlatformDouble) -> None:
    token = _landing(client, registered, INSTRUCTOR).split("lt=")[1]
    assert client.post("/console/sync/everything", data={"lt": token}).status_code == 404


def test_completions_show_and_start_only_where_an_lms_connection_reads_them(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    landing = _landing(client, registered, INSTRUCTOR)
    token = landing.split("lt=")[1]
    assert "Completions" not in client.get(landing).get_data(as_text=True)
    assert client.post("/console/sync/completions", data={"lt": token}).status_code == 404
    course = db.session.scalars(select(Course)).one()
    new = connections.NewConnection(course.deployment.registration_id, LmsKind.MOODLE,
                                    "https://moodle.example.edu", "a-moodle-token")  # fmt: skip
    connections.add(db.session(), new, production=False)
    broker()
    page = client.get(landing).get_data(as_text=True)
    assert "Waiting for a worker to read the completions" in page
    sync = db.session.scalars(select(CourseSync).filter_by(kind=SyncKind.COMPLETIONS)).one()
    sync.status, sync.finished_at = SyncStatus.DONE, sync.requested_at
    db.session.commit()
    assert client.post("/console/sync/completions", data={"lt": token}).status_code == 303
    assert broker() == ["lms.read_completions", [course.id]]
