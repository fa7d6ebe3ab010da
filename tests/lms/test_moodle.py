"""Completions read from Moodle's web services as an administrator meets it: each learner's
activity and course completions become learning events once, an unknown learner is kept
and resolved later, and every refusal is said in words with nothing already stored lost."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.courses import sync_jobs
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.events.services import resolve_actors
from lti_tool.lms import connections, moodle, services
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lti.models import PlatformRegistration
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from tests.lms.fake_moodle import TOKEN, FakeMoodle

MOODLE = "https://moodle.example.org"
T1, T2, T3 = 1763971200, 1763974800, 1763978400  # 2025-11-24 08:00, 09:00, 10:00 UTC
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"


@pytest.fixture
def moodle_course(db: SQLAlchemy, fake_moodle: FakeMoodle) -> dict[str, int]:
    """Course 2 of a Moodle registration with Ana (user 3) known; user 4 not yet met."""
    registration = RegistrationFactory(issuer=MOODLE)
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3")
    db.session.commit()
    fake_moodle.users = [3, 4]
    fake_moodle.modules = [
        (10, "quiz", "Safety quiz"),
        (11, "page", "Lifting"),
        (12, "url", "Video"),
    ]
    fake_moodle.states = {(3, 10): (2, T1), (3, 11): (1, T2), (4, 11): (3, T3)}
    fake_moodle.course_done = {3: [T1, T2]}
    return {"registration": registration.id, "course": course.id, "ana": ana.id}


def connect(db: SQLAlchemy, fake: FakeMoodle, registration: int, token: str = TOKEN) -> int:
    """The fake Moodle as the registration's LMS connection, as ``lms add-connection`` adds it."""
    new = connections.NewConnection(registration_id=registration, kind=LmsKind.MOODLE,
                                    url=fake.url + "/", token=token,
                                    name="ACME Moodle")  # fmt: skip
    return connections.add(db.session(), new, production=False).id


def read(db: SQLAlchemy, course: int, **options: Any) -> CourseSync:
    """One completions read as the worker runs it; the course's sync as it stands after."""
    settings = services.ReadSettings(timeout=options.pop("timeout", 2.0), production=False,
                                     sleep=options.pop("sleep", lambda _s: None))  # fmt: skip
    services.read_course(db.session(), course, settings)
    sync = db.session.scalar(
        select(CourseSync).filter_by(course_id=course, kind=SyncKind.COMPLETIONS)
    )
    assert sync is not None
    return sync


def events(db: SQLAlchemy) -> list[LearningEvent]:
    return list(db.session.scalars(select(LearningEvent).order_by(LearningEvent.idempotency_key)))


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_each_completion_becomes_a_learning_event_of_the_right_learner_course_and_activity(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    connect(db, fake_moodle, moodle_course["registration"])
    sync = read(db, moodle_course["course"])
    assert (sync.status, sync.error) == (SyncStatus.DONE, None)
    assert (sync.pages, sync.items, sync.written) == (2, 6, 6)
    site = fake_moodle.url
    found = {(e.actor["lti_user_id"], e.verb, e.activity_id): e for e in events(db)}
    assert set(found) == {
        ("3", COMPLETED, f"{site}/mod/quiz/view.php?id=10"),
        ("3", PASSED, f"{site}/mod/quiz/view.php?id=10"),
        ("3", COMPLETED, f"{site}/mod/page/view.php?id=11"),
        ("3", COMPLETED, f"{site}/course/view.php?id=2"),
        ("4", COMPLETED, f"{site}/mod/page/view.php?id=11"),
        ("4", FAILED, f"{site}/mod/page/view.php?id=11"),
    }
    quiz = found[("3", PASSED, f"{site}/mod/quiz/view.php?id=10")]
    assert (quiz.person_id, quiz.course_id, quiz.registration_id) == (
        moodle_course["ana"], moodle_course["course"], moodle_course["registration"])  # fmt: skip
    assert (quiz.activity_name, quiz.completion, quiz.success) == ("Safety quiz", True, True)
    assert (quiz.occurred_at, quiz.source) == (at(T1), EventSource.MOODLE)
    assert found[("3", COMPLETED, f"{site}/mod/page/view.php?id=11")].success is None
    assert found[("3", COMPLETED, f"{site}/course/view.php?id=2")].occurred_at == at(T2)
    assert found[("4", FAILED, f"{site}/mod/page/view.php?id=11")].success is False
    assert all(call["method"] == "POST" and call["query"] == "" for call in fake_moodle.calls)
    assert {call["token"] for call in fake_moodle.calls} == {TOKEN}
    users = next(c["form"] for c in fake_moodle.calls
                 if c["form"]["wsfunction"] == "core_enrol_get_enrolled_users")  # fmt: skip
    assert users["options[0][value]"] == "moodle/course:isincompletionreports"


def test_reading_again_records_nothing_new(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    connect(db, fake_moodle, moodle_course["registration"])
    read(db, moodle_course["course"])
    again = read(db, moodle_course["course"])
    assert (again.status, again.items, again.written) == (SyncStatus.DONE, 6, 0)
    assert len(events(db)) == 6


def test_a_new_completion_time_is_a_new_happening(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    connect(db, fake_moodle, moodle_course["registration"])
    read(db, moodle_course["course"])
    fake_moodle.states[(4, 11)] = (2, T3 + 600)  # retried and passed
    assert read(db, moodle_course["course"]).written == 2
    verbs = [e.verb for e in events(db) if e.actor["lti_user_id"] == "4"]
    assert sorted(verbs) == sorted([COMPLETED, FAILED, COMPLETED, PASSED])


def test_an_unknown_learner_is_kept_and_resolved_once_the_tool_meets_them(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    connect(db, fake_moodle, moodle_course["registration"])
    read(db, moodle_course["course"])
    theirs = [e for e in events(db) if e.actor["lti_user_id"] == "4"]
    assert [e.person_id for e in theirs] == [None, None]
    registration = db.session.get(PlatformRegistration, moodle_course["registration"])
    ben = PersonFactory(registration=registration, subject="4")
    db.session.commit()
    assert resolve_actors(db.session()) == 2
    db.session.expire_all()
    assert {e.person_id for e in events(db) if e.actor["lti_user_id"] == "4"} == {ben.id}


def test_a_course_without_completion_criteria_still_gives_activity_completions(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    fake_moodle.criteria = False
    connect(db, fake_moodle, moodle_course["registration"])
    sync = read(db, moodle_course["course"])
    assert (sync.status, sync.written) == (SyncStatus.DONE, 5)
    asked = [c for c in fake_moodle.calls
             if c["form"]["wsfunction"] == moodle.COURSE]  # fmt: skip
    assert len(asked) == 1  # Moodle said so once: not asked again for the next learner


def test_learners_are_read_page_by_page(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(moodle, "USERS_PER_CALL", 2)
    fake_moodle.users = [3, 4, 5, 6, 7]
    connect(db, fake_moodle, moodle_course["registration"])
    assert read(db, moodle_course["course"]).pages == 5
    pages = [c["form"]["options[2][value]"] for c in fake_moodle.calls
             if c["form"]["wsfunction"] == moodle.ENROLLED_USERS]  # fmt: skip
    assert pages == ["0", "2", "4"]


def test_a_refused_token_fails_the_read_in_words_and_keeps_what_was_stored(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    connection_id = connect(db, fake_moodle, moodle_course["registration"])
    read(db, moodle_course["course"])
    connection = db.session.get(LmsConnection, connection_id)
    assert connection is not None
    connections.remove(db.session(), connection_id)
    connect(db, fake_moodle, moodle_course["registration"], token="revoked-token")
    sync = read(db, moodle_course["course"])
    assert sync.status == SyncStatus.FAILED
    assert sync.error == (
        "Moodle refused core_course_get_contents: Moodle did not accept the token "
        "(wrong, expired or deleted); make a new one and add the connection again "
        "(invalidtoken)."
    )
    assert len(events(db)) == 6


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((200, "<html><body>Moodle login</body></html>"), "Moodle's answer is not JSON"),
        ((200, ""), "Moodle's answer is not JSON"),
        ((302, ""), "Moodle answered with a redirect (HTTP 302)"),
        ((404, "Not found"), "Moodle refused: HTTP 404, it does not know this address."),
        ((503, "down"), "Moodle had an error of its own (HTTP 503) 3 time(s)"),
    ],
)
def test_an_lms_that_answers_nonsense_fails_the_read_in_words(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle,
    answer: tuple[int, str], error: str,
) -> None:  # fmt: skip
    fake_moodle.answer = answer
    connect(db, fake_moodle, moodle_course["registration"])
    waits: list[float] = []
    sync = read(db, moodle_course["course"], sleep=waits.append)
    assert sync.status == SyncStatus.FAILED
    assert sync.error is not None
    assert sync.error.startswith(error)
    assert waits == ([2.0, 4.0] if answer[0] == 503 else [])


def test_a_moodle_that_hangs_fails_the_read_after_the_timeout(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    fake_moodle.hang = 5.0
    connect(db, fake_moodle, moodle_course["registration"])
    sync = read(db, moodle_course["course"], timeout=0.3)
    assert (sync.status, sync.error) == (SyncStatus.FAILED, "Moodle did not answer within 0.3 s.")


def test_a_course_that_is_not_a_moodle_course_id_is_said_so(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    registration = db.session.get(PlatformRegistration, moodle_course["registration"])
    other = CourseFactory(deployment=DeploymentFactory(registration=registration),
                          context_id="course-v1:abc")  # fmt: skip
    db.session.commit()
    connect(db, fake_moodle, moodle_course["registration"])
    sync = read(db, other.id)
    assert sync.status == SyncStatus.FAILED
    assert sync.error is not None
    assert "is not a Moodle course id" in sync.error
    assert fake_moodle.calls == []


def test_the_token_is_never_logged_and_is_stored_encrypted(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    connection_id = connect(db, fake_moodle, moodle_course["registration"])
    read(db, moodle_course["course"])
    fake_moodle.answer = (500, "oops")
    read(db, moodle_course["course"])
    assert caplog.records
    assert TOKEN not in caplog.text
    raw = db.session.execute(
        select(LmsConnection.token_encrypted).where(LmsConnection.id == connection_id)
    ).scalar_one()
    assert TOKEN.encode() not in raw
    assert TOKEN[:12].encode() not in raw


def test_a_connection_never_reads_another_platforms_courses(
    db: SQLAlchemy, moodle_course: dict[str, int], fake_moodle: FakeMoodle
) -> None:
    other = CourseFactory(context_id="2")  # course 2 of another platform
    db.session.commit()
    connect(db, fake_moodle, moodle_course["registration"])
    queued = set(db.session.scalars(
        select(CourseSync.course_id).where(CourseSync.kind == SyncKind.COMPLETIONS)))  # fmt: skip
    assert queued == {moodle_course["course"]}
    sync_jobs.request(db.session(), other.id, SyncKind.COMPLETIONS)  # e.g. from its console
    sync = read(db, other.id)
    assert sync.status == SyncStatus.FAILED
    assert sync.error is not None
    assert sync.error.startswith("The platform has no LMS connection")
    assert fake_moodle.calls == []
    assert db.session.scalar(select(func.count()).select_from(LearningEvent)) == 0
