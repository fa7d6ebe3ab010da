"""Grade book reading over real HTTP: every line item and result page becomes learning
events once, scores reach the platform, Moodle's line-item URLs keep their query, and a
platform failure is recorded in words with nothing already stored lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request
from sqlalchemy import func, select

from lti_tool.courses.models import Person
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.devplatform.advantage import create_line_item, line_item, record_score
from lti_tool.devplatform.models import DevScore
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.extensions import db
from lti_tool.grades.client import LINEITEM, LINEITEM_READ, RESULT_READ, SCORE, under
from lti_tool.grades.services import SCORED, read_course, send_score
from lti_tool.lti.models import PlatformRegistration
from lti_tool.lti.storage import storage
from tests.advantage.conftest import REFUSALS, Served
from tests.helpers.servers import serve

SCOPES = [LINEITEM, LINEITEM_READ, RESULT_READ, SCORE]


def _course(served: Served, context_id: str, lineitems_url: str, scopes: list[str]) -> int:
    course_id = served.course(context_id, None)
    with served.app.app_context():
        from lti_tool.courses.models import Course

        course = db.session.get(Course, course_id)
        assert course is not None
        course.lineitems_url, course.ags_scopes = lineitems_url, scopes
        db.session.add(CourseSync(course_id=course_id, kind=SyncKind.GRADES,
                                  requested_at=func.now()))  # fmt: skip
        db.session.commit()
    return course_id


def _read(served: Served, course_id: int) -> CourseSync:
    with served.app.app_context():
        read_course(db.session(), storage(), course_id, timeout=5)
        sync = db.session.scalar(select(CourseSync).filter_by(course_id=course_id,
                                                              kind=SyncKind.GRADES))  # fmt: skip
        assert sync is not None
        return sync


def _events(served: Served, course_id: int) -> list[LearningEvent]:
    with served.app.app_context():
        return list(db.session.scalars(
            select(LearningEvent).where(LearningEvent.course_id == course_id)
            .order_by(LearningEvent.id)
        ))  # fmt: skip


def _score(served: Served, context_id: str, item_id: int, user: str, given: float) -> None:
    with served.app.app_context():
        record_score(db.session(), line_item(db.session(), context_id, item_id), {
            "userId": user, "scoreGiven": given, "scoreMaximum": 10,
            "activityProgress": "Completed", "gradingProgress": "FullyGraded"})  # fmt: skip


def test_results_over_several_pages_become_learning_events_once(served: Served) -> None:
    context = "generated-150"
    with served.app.app_context():
        quiz = create_line_item(db.session(), context, {"label": "Quiz 1", "scoreMaximum": 10,
                                                        "tag": "customer-greeting"}).id  # fmt: skip
        create_line_item(db.session(), context, {"label": "Not graded yet", "scoreMaximum": 5})
        db.session.add(Person(registration_id=served.registration_id, subject="gen-000001"))
        db.session.commit()
    for n in range(1, 151):  # 150 results: two pages of results
        _score(served, context, quiz, f"gen-{n:06d}", n % 11)
    course = _course(served, context, f"{served.url}/dev-platform/ags/{context}/lineitems", SCOPES)

    sync = _read(served, course)
    assert (sync.status, sync.error, sync.pages, sync.items) == (SyncStatus.DONE, None, 2, 150)
    assert sync.written == 150
    events = _events(served, course)
    assert len(events) == 150
    first = events[0]
    assert (first.verb, first.source, first.completion) == (SCORED, EventSource.AGS, True)
    assert first.activity_name == "Quiz 1"
    assert first.activity_id.endswith(f"/lineitems/{quiz}")
    assert (first.score_raw, first.score_max, first.score_scaled) == (1.0, 10.0, 0.1)
    assert first.person_id is not None  # gen-000001 is known to the tool
    unknown = events[1]
    assert unknown.person_id is None  # kept with the platform's id, resolved later
    assert unknown.actor == {"lti_user_id": "gen-000002", "registration_id": served.registration_id}
    assert first.raw["line_item"]["tag"] == "customer-greeting"

    assert _read(served, course).written == 0  # read again: nothing new
    _score(served, context, quiz, "gen-000003", 9)  # one score changed
    assert _read(served, course).written == 1
    assert len(_events(served, course)) == 151


def test_a_score_reaches_the_platform(served: Served) -> None:
    context = "demo-course-1"
    with served.app.app_context():
        item = create_line_item(db.session(), context, {"label": "Check-in", "scoreMaximum": 1})
        url = f"{served.url}/dev-platform/ags/{context}/lineitems/{item.id}"
        registration = db.session.get(PlatformRegistration, served.registration_id)
        assert registration is not None
        send_score(db.session(), storage(), registration, url, {
            "userId": "demo-learner-1", "scoreGiven": 1, "scoreMaximum": 1,
            "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "timestamp": "2026-11-24T09:00:00Z"}, timeout=5)  # fmt: skip
        stored = db.session.scalars(select(DevScore)).one()
    assert (stored.user_id, stored.score_given, stored.activity_progress) == (
        "demo-learner-1", 1.0, "Completed")  # fmt: skip


def test_results_and_scores_go_under_the_path_before_moodles_query() -> None:
    item = "https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3"
    assert under(item, "results") == (
        "https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem/results?type_id=3"
    )
    assert under(item, "scores").endswith("/lineitem/scores?type_id=3")  # fmt: skip


class FakeGradeBook:
    """A Moodle-shaped grade book: line item URLs with ?type_id=, answering as told."""

    def __init__(self) -> None:
        self.status, self.body, self.seen = 200, None, []  # type: ignore[var-annotated]
        self.app = Flask("fake-grade-book")
        self.url = ""
        self.app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        self.app.add_url_rule("/mod/lti/services.php/2/lineitems", view_func=self.items)
        self.app.add_url_rule("/mod/lti/services.php/2/lineitems/<int:n>/lineitem/results",
                              view_func=self.results)  # fmt: skip

    def token(self) -> Response:
        return Response(json.dumps({"access_token": "t", "expires_in": 3600}),
                        mimetype="application/json")  # fmt: skip

    def _answer(self, body: Any) -> Response:
        self.seen.append(request.full_path)
        text = self.body if self.body is not None else json.dumps(body)
        return Response(text, status=self.status, mimetype="application/json")

    def items(self) -> Response:
        base = f"{self.url}/mod/lti/services.php/2/lineitems"
        return self._answer([{"id": f"{base}/7/lineitem?type_id=3", "label": "Week 1",
                              "scoreMaximum": 100}])  # fmt: skip

    def results(self, n: int) -> Response:
        return self._answer([{"userId": "u-1", "resultScore": 80, "resultMaximum": 100}])


@pytest.fixture
def grade_book() -> Iterator[FakeGradeBook]:
    fake = FakeGradeBook()
    server, fake.url = serve(fake.app)
    yield fake
    server.shutdown()


def test_moodle_line_items_are_read_with_their_query(
    served: Served, grade_book: FakeGradeBook
) -> None:
    served.point_at(f"{grade_book.url}/token")
    url = f"{grade_book.url}/mod/lti/services.php/2/lineitems?type_id=3"
    course = _course(served, "m-1", url, [LINEITEM_READ, RESULT_READ])
    assert _read(served, course).written == 1
    assert grade_book.seen[1] == "/mod/lti/services.php/2/lineitems/7/lineitem/results?type_id=3"
    assert _events(served, course)[0].score_scaled == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [*REFUSALS, (200, '{"lineItems": []}', "not a list of line items")],
)
def test_a_grade_book_failure_is_recorded_in_words_and_loses_nothing(
    served: Served, grade_book: FakeGradeBook, status: int, body: str | None, words: str
) -> None:
    served.point_at(f"{grade_book.url}/token")
    course = _course(served, "m-2", f"{grade_book.url}/mod/lti/services.php/2/lineitems",
                     [LINEITEM_READ, RESULT_READ])  # fmt: skip
    assert _read(served, course).written == 1
    grade_book.status, grade_book.body = status, body
    sync = _read(served, course)
    assert sync.status is SyncStatus.FAILED
    assert words in (sync.error or "")
    assert len(_events(served, course)) == 1


def test_a_course_without_result_access_says_so(served: Served) -> None:
    course = _course(served, "m-3", "https://lms.example.edu/lineitems", [SCORE])
    sync = _read(served, course)
    assert sync.status is SyncStatus.FAILED
    assert "not allowed the tool to read results" in (sync.error or "")
