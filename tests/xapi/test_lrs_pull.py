"""Pulling statements from an organisation's LRS as its administrator meets it: every page
read, each statement kept once however often the LRS returns it, a worker killed mid-poll
losing nothing, and every refusal said in words with nothing already stored touched."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.clock import FixedClock
from lti_tool.courses.syncs import SyncStatus
from lti_tool.events.models import EventSource, LearningEvent
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from tests.xapi.fake_lrs import PASSWORD, USERNAME, FakeLrs, lrs_statement
from xapi import pull, sources
from xapi.models import LrsSource, Statement
from xapi.tasks import MAX_RETRIES, pull_lrs

MOODLE = "https://moodle.example.org"
SETTINGS = pull.PullSettings(
    poll=timedelta(minutes=5), overlap=timedelta(seconds=60), page_size=2, timeout=2.0,
    production=False,
)  # fmt: skip


def at(seconds: int) -> str:
    """An LRS timestamp, seconds after 08:00 on the day of the tests."""
    moment = datetime(2026, 11, 24, 8, 0, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def moodle(db: SQLAlchemy) -> dict[str, int]:
    """A Moodle registration with course 2 and Ana, whose Moodle user id is 3."""
    registration = RegistrationFactory(issuer=MOODLE)
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3", email="ana@example.org")
    db.session.commit()
    return {"registration": registration.id, "course": course.id, "ana": ana.id}


def add_source(db: SQLAlchemy, fake: FakeLrs, registration: int, **filters: Any) -> int:
    """The fake LRS as an LRS source of the registration, as ``xapi add-lrs`` adds it."""
    new = sources.NewSource(
        registration_id=registration, name="ACME LRS", endpoint=f"{fake.url}/xapi",
        username=USERNAME, password=PASSWORD, filters=filters,
    )  # fmt: skip
    return sources.add(db.session(), new, production=False).id


def poll(db: SQLAlchemy, source_id: int, **options: Any) -> LrsSource:
    """One poll as the worker runs it; the source as it stands after."""
    pull.run(db.session(), source_id, options.pop("settings", SETTINGS), **options)
    source = db.session.get(LrsSource, source_id)
    assert source is not None
    return source


def stored(db: SQLAlchemy) -> dict[str, dict[str, Any]]:
    """The statements the tool holds, by id."""
    return {row.statement_id: row.body for row in db.session.scalars(select(Statement))}


def events(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(LearningEvent)) or 0)


@pytest.mark.parametrize("more", ["relative", "absolute"])
def test_every_page_is_read_and_each_statement_becomes_a_learning_event(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, more: str
) -> None:
    fake_lrs.more = more
    fake_lrs.statements = [lrs_statement(n, at(n)) for n in range(1, 6)]
    source = poll(db, add_source(db, fake_lrs, moodle["registration"]))
    assert source.status == SyncStatus.DONE
    assert source.error is None
    assert (source.pages, source.statements_read, source.statements_new) == (3, 5, 5)
    assert len(stored(db)) == 5
    assert events(db) == 5
    first = fake_lrs.requests[0]
    assert first["args"] == {"ascending": "true", "format": "exact", "limit": "2"}
    assert first["auth"] == (USERNAME, PASSWORD)
    assert first["version"] == "1.0.3"
    assert [r["args"].get("offset") for r in fake_lrs.requests] == [None, "2", "4"]
    event = db.session.scalars(select(LearningEvent)).first()
    assert event is not None
    assert (event.person_id, event.course_id) == (moodle["ana"], moodle["course"])
    assert (event.source, event.registration_id) == (EventSource.XAPI, moodle["registration"])
    assert sources.summary(source).startswith("done: 3 page(s), 5 statement(s) read, 5 new")


def test_statements_keep_their_id_and_content_and_get_our_stored_and_authority(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, frozen_clock: FixedClock
) -> None:
    statement = lrs_statement(1, at(1))
    statement["x-vendor-note"] = {"kept": True}  # an LRS's own property: kept, not checked
    fake_lrs.statements = [statement]
    source_id = add_source(db, fake_lrs, moodle["registration"])
    poll(db, source_id)
    body = stored(db)[statement["id"]]
    assert body["result"] == statement["result"]
    assert body["timestamp"] == statement["timestamp"]
    assert body["x-vendor-note"] == {"kept": True}
    assert body["stored"] == "2026-11-24T09:00:00.000Z"  # ours: when the tool stored it
    assert body["authority"]["account"]["name"] == f"lrs-source-{source_id}"
    assert body["version"] == "1.0.0"


def test_the_next_poll_re_reads_the_overlap_and_keeps_each_statement_once(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs
) -> None:
    fake_lrs.statements = [lrs_statement(n, at(n * 10)) for n in range(1, 4)]
    source_id = add_source(db, fake_lrs, moodle["registration"])
    poll(db, source_id)
    fake_lrs.statements.append(lrs_statement(4, at(100)))
    fake_lrs.requests.clear()
    source = poll(db, source_id)
    assert fake_lrs.requests[0]["args"]["since"] == at(30 - 60)  # the cursor less the overlap
    assert (source.statements_read, source.statements_new) == (4, 1)
    assert len(stored(db)) == 4
    assert events(db) == 4
    assert source.cursor_since == datetime(2026, 11, 24, 8, 1, 40, tzinfo=UTC)


def test_a_late_statement_of_an_lrs_that_filters_since_by_timestamp_is_caught(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs
) -> None:
    fake_lrs.since_on = "timestamp"
    fake_lrs.statements = [lrs_statement(1, at(30), timestamp=at(20))]
    source_id = add_source(db, fake_lrs, moodle["registration"])
    poll(db, source_id)
    # Stored after the first poll, but saying it happened before the last statement read.
    fake_lrs.statements.append(lrs_statement(2, at(90), timestamp=at(0)))
    source = poll(db, source_id)
    assert (source.statements_read, source.statements_new) == (2, 1)
    assert len(stored(db)) == 2
    assert source.cursor_since == datetime(2026, 11, 24, 8, 1, 30, tzinfo=UTC)


def test_the_cursor_never_moves_back_nor_past_what_the_lrs_vouches_for(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs
) -> None:
    fake_lrs.since_on = "timestamp"  # pages in timestamp order: stored goes up and down
    fake_lrs.statements = [lrs_statement(1, at(50), timestamp=at(1)),
                           lrs_statement(2, at(10), timestamp=at(2)),
                           lrs_statement(3, at(40), timestamp=at(3))]  # fmt: skip
    fake_lrs.consistent_through = at(45)
    source = poll(db, add_source(db, fake_lrs, moodle["registration"]))
    assert len(stored(db)) == 3
    assert source.cursor_since == datetime(2026, 11, 24, 8, 0, 45, tzinfo=UTC)


class Killed(BaseException):
    """The worker dies (not an error the poll could catch)."""


def test_a_worker_killed_between_pages_resumes_without_losing_or_doubling(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, frozen_clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    fake_lrs.statements = [lrs_statement(n, at(n)) for n in range(1, 6)]
    source_id = add_source(db, fake_lrs, moodle["registration"])
    keep_page = pull.keep_page

    def dies_after_the_first_page(*args: Any) -> None:
        keep_page(*args)
        raise Killed

    monkeypatch.setattr(pull, "keep_page", dies_after_the_first_page)
    with pytest.raises(Killed):
        poll(db, source_id)
    monkeypatch.undo()
    db.session.rollback()
    assert len(stored(db)) == 2  # the first page was kept, and the cursor with it
    assert poll(db, source_id).status == SyncStatus.RUNNING  # another worker may still have it
    frozen_clock.advance(pull.STALE_RUNNING + timedelta(seconds=1))  # ... until its lease ends
    fake_lrs.requests.clear()
    source = poll(db, source_id)
    assert source.status == SyncStatus.DONE
    assert fake_lrs.requests[0]["args"]["since"] == at(2 - 60)
    assert sorted(stored(db)) == sorted(s["id"] for s in fake_lrs.statements)
    assert events(db) == 5
    assert source.statements_new == 3


def test_filters_reach_the_lrs_as_its_query_parameters(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs
) -> None:
    passed = lrs_statement(1, at(1), fixture="cmi5_passed")
    fake_lrs.statements = [passed, lrs_statement(2, at(2))]
    source_id = add_source(
        db, fake_lrs, moodle["registration"], verb=passed["verb"]["id"],
        activity="https://content.example.org/course/negotiation", related_activities=True,
        agent='{"account": {"homePage": "https://lms.example.org", "name": "learner-42"}}',
    )  # fmt: skip
    source = poll(db, source_id)
    args = fake_lrs.requests[0]["args"]
    assert args["verb"] == passed["verb"]["id"]
    assert args["activity"] == "https://content.example.org/course/negotiation"
    assert args["related_activities"] == "true"
    assert args["agent"] == '{"account":{"homePage":"https://lms.example.org","name":"learner-42"}}'
    assert list(stored(db)) == [passed["id"]]
    assert source.statements_new == 1


def test_statements_that_are_not_valid_xapi_are_skipped_and_counted(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, caplog: pytest.LogCaptureFixture
) -> None:
    broken = lrs_statement(2, at(2))
    broken["actor"] = {"mbox": "ana@example.org"}  # not a mailto: IRI
    no_id = lrs_statement(3, at(3))
    del no_id["id"]
    fake_lrs.statements = [lrs_statement(1, at(1)), broken, no_id, lrs_statement(4, at(4))]
    source = poll(db, add_source(db, fake_lrs, moodle["registration"]))
    assert source.status == SyncStatus.DONE
    assert (source.statements_read, source.statements_new, source.statements_skipped) == (4, 2, 2)
    assert len(stored(db)) == 2
    assert "actor.mbox" in caplog.text
    assert "2 skipped" in sources.summary(source)


NEVER_ANSWERS = (0, "", {})
REFUSALS = [
    (401, "{}", {}, "did not accept the username and password"),
    (403, "{}", {}, "does not allow these credentials to read statements"),
    (429, "{}", {"Retry-After": "7"}, "asked the tool to slow down (HTTP 429)"),
    (500, "oops", {}, "had an error of its own (HTTP 500)"),
    (200, "{not json", {}, "not valid JSON"),
    (200, '{"more": ""}', {}, "not a StatementResult"),
    (200, '[{"id": "x"}]', {}, "not a StatementResult"),
    (302, "", {"Location": "https://elsewhere.example/"}, "redirect"),
    (*NEVER_ANSWERS, "did not answer within 0.5 s"),
]


@pytest.mark.parametrize(("status", "body", "headers", "words"), REFUSALS)
def test_a_refusal_is_said_in_words_and_touches_nothing_stored(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, status: int, body: str,
    headers: dict[str, str], words: str,
) -> None:  # fmt: skip
    fake_lrs.statements = [lrs_statement(1, at(1))]
    source_id = add_source(db, fake_lrs, moodle["registration"])
    poll(db, source_id)
    before, cursor = stored(db), db.session.get(LrsSource, source_id).cursor_since  # type: ignore[union-attr]
    if status:
        fake_lrs.answer = (status, body, headers)
    else:
        fake_lrs.hang = 5.0
    source = poll(
        db, source_id, settings=pull.PullSettings(**{**SETTINGS.__dict__, "timeout": 0.5})
    )
    assert source.status == SyncStatus.FAILED
    assert source.error is not None
    assert words in source.error
    assert words in sources.summary(source)
    assert stored(db) == before
    assert events(db) == 1
    assert source.cursor_since == cursor


def test_a_busy_lrs_is_retried_when_it_says_then_given_up_on(
    db: SQLAlchemy, app: Flask, moodle: dict[str, int], fake_lrs: FakeLrs
) -> None:
    source_id = add_source(db, fake_lrs, moodle["registration"])
    fake_lrs.answer = (429, "{}", {"Retry-After": "7"})
    assert pull.run(db.session(), source_id, SETTINGS, may_retry=True) == 7.0
    source = db.session.get(LrsSource, source_id)
    assert source is not None
    assert source.status == SyncStatus.QUEUED
    assert "slow down" in str(source.error)
    assert "tries again in 7 s" in str(source.error)
    # The task retries at most MAX_RETRIES times (eagerly here: countdowns are not waited).
    fake_lrs.requests.clear()
    app.extensions["celery"].tasks[pull_lrs.name].apply(args=[source_id])
    assert len(fake_lrs.requests) == MAX_RETRIES + 1
    db.session.expire_all()  # the task ran in sessions of its own
    source = db.session.get(LrsSource, source_id)
    assert source is not None
    assert source.status == SyncStatus.FAILED
    assert "gave up until the next poll" in str(source.error)


def test_a_more_link_to_another_site_is_not_followed(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs
) -> None:
    fake_lrs.more = "https://collector.example/steal?page=2"
    fake_lrs.statements = [lrs_statement(n, at(n)) for n in range(1, 4)]
    source = poll(db, add_source(db, fake_lrs, moodle["registration"]))
    assert source.status == SyncStatus.FAILED
    assert "another site (https://collector.example)" in str(source.error)
    assert len(fake_lrs.requests) == 1
    assert len(stored(db)) == 2


def test_the_password_is_encrypted_at_rest_and_never_logged(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_lrs.statements = [lrs_statement(1, at(1))]
    source_id = add_source(db, fake_lrs, moodle["registration"])
    poll(db, source_id)
    fake_lrs.answer = (401, "{}", {})
    poll(db, source_id)
    raw = db.session.execute(
        select(LrsSource.password_encrypted).where(LrsSource.id == source_id)
    ).scalar_one()
    assert PASSWORD.encode() not in raw
    assert len(raw) > len(PASSWORD)
    assert PASSWORD not in caplog.text
    assert "did not accept the username and password" in caplog.text


def test_the_sweep_queues_sources_due_and_lost_polls_only(
    db: SQLAlchemy, moodle: dict[str, int], fake_lrs: FakeLrs, frozen_clock: FixedClock
) -> None:
    fake_lrs.statements = [lrs_statement(1, at(1))]
    polled = add_source(db, fake_lrs, moodle["registration"])
    poll(db, polled)
    lost = add_source(db, fake_lrs, moodle["registration"])  # its task never arrived
    removed = add_source(db, fake_lrs, moodle["registration"])
    sources.remove(db.session(), removed)
    assert pull.queue_due(db.session()) == []
    frozen_clock.advance(SETTINGS.poll)
    assert pull.queue_due(db.session()) == [polled]
    frozen_clock.advance(pull.STALE_QUEUED)
    assert pull.queue_due(db.session()) == [lost]  # polled's task was sent 10 min ago, not more
