"""Completions read from the Canvas API: the course found by its LTI context id, each known
learner by their LTI 1.3 sub (once), module items, modules and the course progress
recorded once, every page read, and every refusal said in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Person
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.lms import connections, services
from lti_tool.lms.models import LmsKind
from tests.factories import CourseFactory, DeploymentFactory, EnrollmentFactory, RegistrationFactory
from tests.lms.fake_canvas import TOKEN, FakeCanvas

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ANA, BEN, CLEO = "a4e3a9f2-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "b5f4b0a3-uuid-ben", "c6-uuid-cleo"


@pytest.fixture
def canvas_course(db: SQLAlchemy, fake_canvas: FakeCanvas, frozen_clock: Any) -> dict[str, Any]:
    """A Canvas course with learners Ana and Ben (in Canvas), Cleo (gone) and an instructor."""
    registration = RegistrationFactory(canvas=True, client_id="10000000000042")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration),
                           context_id=fake_canvas.context_id)  # fmt: skip
    people = {}
    for sub in (ANA, BEN, CLEO):
        people[sub] = EnrollmentFactory(course=course, person__subject=sub).person
    EnrollmentFactory(course=course, instructor=True, person__subject="teacher-sub")
    db.session.commit()
    fake_canvas.students = {ANA: 501, BEN: 502}
    fake_canvas.modules = [
        {"id": 1, "name": "Week 1", "items": [{"id": 11, "title": "Lifting safely"},
                                             {"id": 12, "title": "Quiz", "type": "Quiz"},
                                             {"id": 13, "title": "Part 2", "type": "SubHeader"}]},
        {"id": 2, "name": "Week 2", "inline": False, "items": [{"id": 21, "title": "Ladders"}]},
    ]  # fmt: skip
    fake_canvas.done_items = {(501, 11), (501, 12), (501, 21), (502, 11)}
    fake_canvas.done_modules = {(501, 1): "2026-11-20T10:00:00Z", (501, 2): "2026-11-21T10:00:00Z"}
    fake_canvas.done_courses = {501: "2026-11-21T10:00:00Z"}
    connection = connections.NewConnection(registration_id=registration.id, kind=LmsKind.CANVAS,
                                           url=f"{fake_canvas.url}/api/v1",
                                           token=TOKEN)  # fmt: skip
    connections.add(db.session(), connection, production=False)
    return {"registration": registration.id, "course": course.id,
            "people": {sub: p.id for sub, p in people.items()}}  # fmt: skip


def read(db: SQLAlchemy, course: int, waits: list[float] | None = None) -> CourseSync:
    settings = services.ReadSettings(timeout=2.0, production=False,
                                     sleep=(waits if waits is not None else []).append)  # fmt: skip
    services.read_course(db.session(), course, settings)
    sync = db.session.scalar(
        select(CourseSync).filter_by(course_id=course, kind=SyncKind.COMPLETIONS)
    )
    assert sync is not None
    return sync


def found(db: SQLAlchemy) -> dict[tuple[int | None, str], LearningEvent]:
    return {(e.person_id, e.activity_id): e for e in db.session.scalars(select(LearningEvent))}


def test_items_modules_and_the_course_completed_become_learning_events(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    sync = read(db, canvas_course["course"])
    assert (sync.status, sync.error) == (SyncStatus.DONE, None)
    assert (sync.pages, sync.written) == (2, 7)  # Ana and Ben; Cleo is not in Canvas any more
    site, ana, ben = fake_canvas.url, *(canvas_course["people"][s] for s in (ANA, BEN))
    events = found(db)
    assert set(events) == {
        (ana, f"{site}/courses/101/modules/items/11"),
        (ana, f"{site}/courses/101/modules/items/12"),
        (ana, f"{site}/courses/101/modules/items/21"), (ana, f"{site}/courses/101/modules/1"),
        (ana, f"{site}/courses/101/modules/2"), (ana, f"{site}/courses/101"),
        (ben, f"{site}/courses/101/modules/items/11"),
    }  # fmt: skip
    item = events[(ana, f"{site}/courses/101/modules/items/11")]
    assert (item.verb, item.activity_name, item.completion, item.success) == (
        COMPLETED, "Lifting safely", True, None)  # fmt: skip
    assert (item.course_id, item.registration_id, item.source) == (
        canvas_course["course"], canvas_course["registration"], EventSource.CANVAS)  # fmt: skip
    assert item.occurred_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # when it was read
    module = events[(ana, f"{site}/courses/101/modules/1")]
    assert (module.activity_name, module.occurred_at) == (
        "Week 1", datetime(2026, 11, 20, 10, 0, tzinfo=UTC))  # fmt: skip
    assert events[(ana, f"{site}/courses/101")].occurred_at == datetime(
        2026, 11, 21, 10, tzinfo=UTC
    )
    assert f"/api/v1/courses/lti_context_id:{fake_canvas.context_id}" in fake_canvas.requests
    assert f"/api/v1/courses/101/users/lti_1_3_id:{ANA}" in fake_canvas.requests
    assert not any("teacher-sub" in r for r in fake_canvas.requests)
    ana_person = db.session.get(Person, ana)
    assert ana_person is not None
    assert ana_person.lms_user_id == "501"


def test_reading_again_records_nothing_new_and_looks_nobody_up_twice(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    read(db, canvas_course["course"])
    fake_canvas.requests.clear()
    again = read(db, canvas_course["course"])
    assert (again.status, again.written) == (SyncStatus.DONE, 0)
    assert len(found(db)) == 7
    lookups = [r for r in fake_canvas.requests if "lti_1_3_id" in r]
    assert lookups == [f"/api/v1/courses/101/users/lti_1_3_id:{CLEO}"]  # only the one not found


def test_modules_are_read_page_by_page(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    fake_canvas.page_size = 1
    assert read(db, canvas_course["course"]).written == 7
    pages = [r for r in fake_canvas.requests if "/modules?" in r and "student_id=501" in r]
    assert len(pages) == 2
    assert "page=2" in pages[1]


def test_a_next_page_on_another_site_is_refused(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    fake_canvas.page_size = 1
    fake_canvas.next_url = "https://elsewhere.example.com/api/v1/courses/101/modules?page=2"
    sync = read(db, canvas_course["course"])
    assert sync.status == SyncStatus.FAILED
    assert sync.error == ("Canvas sent the tool to another site (https://elsewhere.example.com); "
                          "the tool does not send the token there.")  # fmt: skip


def test_a_refused_token_fails_the_read_in_words_and_keeps_what_was_stored(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    read(db, canvas_course["course"])
    fake_canvas.answers = [(401, json.dumps({"errors": [{"message": "Invalid access token."}]}),
                            {})]  # fmt: skip
    sync = read(db, canvas_course["course"])
    assert (sync.status, sync.error) == (
        SyncStatus.FAILED, "Canvas refused: HTTP 401, it did not accept the token.")  # fmt: skip
    assert len(found(db)) == 7


def test_a_course_canvas_does_not_know_is_said_so(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    fake_canvas.context_id = "another-context"
    sync = read(db, canvas_course["course"])
    assert sync.status == SyncStatus.FAILED
    assert sync.error is not None
    assert sync.error.startswith("Canvas has no course with this course's LTI context id")


def test_canvas_throttling_is_waited_out(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    fake_canvas.answers = [(403, "403 Forbidden (Rate Limit Exceeded)", {}),
                           (429, "{}", {"Retry-After": "3"})]  # fmt: skip
    waits: list[float] = []
    sync = read(db, canvas_course["course"], waits)
    assert (sync.status, sync.written) == (SyncStatus.DONE, 7)
    assert waits == [2.0, 3.0]


def test_canvas_answering_a_login_page_fails_the_read_in_words(
    db: SQLAlchemy, canvas_course: dict[str, Any], fake_canvas: FakeCanvas
) -> None:
    fake_canvas.answers = [(200, "<!DOCTYPE html><title>Log in to Canvas</title>", {})]
    sync = read(db, canvas_course["course"])
    assert sync.status == SyncStatus.FAILED
    assert sync.error == ("Canvas's answer is not JSON (an error or login page?); check the "
                          "connection's address.")  # fmt: skip
