"""The outbox as an organisation's LRS meets it: what learners do arrives once, in the order it
happened, however the LRS misbehaves; nothing is lost, and what cannot go is said in words."""

from __future__ import annotations

import logging
from base64 import b64encode
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool import crypto
from lti_tool.clock import FixedClock
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from tests.xapi.fake_lrs import PASSWORD, USERNAME, FakeLrs
from tests.xapi.test_lrs_pull import Killed
from xapi import builders, delivery, lrs, outbox, sources
from xapi.builders import Scene
from xapi.models import LrsPurpose, LrsSource, OutboxStatement
from xapi.validation import StatementError

TOOL = "https://mentor.example.org"
SETTINGS = delivery.DeliverySettings(
    batch=50, first_retry=30.0, last_retry=3600.0, timeout=0.5, production=False
)


@pytest.fixture
def scene(db: SQLAlchemy) -> Scene:
    """Ana in a Moodle course."""
    registration = RegistrationFactory(issuer="https://moodle.example.org", product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3")
    db.session.commit()
    return Scene.of(TOOL, registration, ana, course)


def add_lrs(db: SQLAlchemy, fake: FakeLrs, registration: int, **changes: Any) -> LrsSource:
    """The fake LRS as the registration's LRS to send to, as ``xapi add-lrs --send`` adds it."""
    new = sources.NewSource(
        registration_id=registration, name="ACME LRS", endpoint=f"{fake.url}/xapi",
        username=USERNAME, password=PASSWORD, **{"purpose": LrsPurpose.SEND, **changes},
    )  # fmt: skip
    return sources.add(db.session(), new, production=False)


def answer(db: SQLAlchemy, scene: Scene, number: int) -> str:
    """Ana answers check-in number ``number`` (committed with its statement); its id."""
    statement = builders.answered_check_in(
        scene, delivery_id=number, answer_id=number, question="Applied it?", answer="yes",
        at=datetime(2026, 11, 24, 8, tzinfo=UTC) + timedelta(minutes=number),
    )  # fmt: skip
    outbox.emit(db.session(), scene.registration_id, statement)
    db.session.commit()
    return str(statement["id"])


def deliver(db: SQLAlchemy, scene: Scene, settings: delivery.DeliverySettings = SETTINGS) -> int:
    return delivery.deliver(db.session(), scene.registration_id, settings)


def rows(db: SQLAlchemy) -> list[OutboxStatement]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxStatement).order_by(OutboxStatement.id)))


def sender(db: SQLAlchemy, source_id: int) -> LrsSource:
    db.session.expire_all()
    source = db.session.get(LrsSource, source_id)
    assert source is not None
    return source


def test_statements_reach_the_lrs_as_one_batch_in_the_order_they_happened(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock
) -> None:
    source = add_lrs(db, fake_lrs, scene.registration_id, xapi_version="2.0.0")
    ids = [answer(db, scene, n) for n in range(1, 4)]
    assert deliver(db, scene) == 3
    assert fake_lrs.accepted == [ids]
    post = fake_lrs.requests[0]
    assert (post["method"], post["version"]) == ("POST", "2.0.0")
    assert post["auth"] == (USERNAME, PASSWORD)
    assert all(row.delivered_at == frozen_clock.now() for row in rows(db))
    assert sender(db, source.id).last_sent_at == frozen_clock.now()
    assert deliver(db, scene) == 0  # nothing is sent twice
    assert len(fake_lrs.requests) == 1


def test_a_backlog_goes_in_batches_oldest_first(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs
) -> None:
    add_lrs(db, fake_lrs, scene.registration_id)
    ids = [answer(db, scene, n) for n in range(1, 6)]
    assert deliver(db, scene, delivery.DeliverySettings(2, 30.0, 3600.0, 0.5, False)) == 5
    assert fake_lrs.accepted == [ids[0:2], ids[2:4], ids[4:5]]


def test_statements_of_a_registration_without_an_lrs_wait_for_one(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs
) -> None:
    ids = [answer(db, scene, n) for n in range(1, 3)]
    assert deliver(db, scene) == 0
    assert [row.delivered_at for row in rows(db)] == [None, None]
    read_only = add_lrs(db, fake_lrs, scene.registration_id, purpose=LrsPurpose.READ)
    assert deliver(db, scene) == 0  # an LRS the tool only reads is not sent to
    sources.remove(db.session(), read_only.id)
    add_lrs(db, fake_lrs, scene.registration_id)
    assert deliver(db, scene) == 2
    assert fake_lrs.accepted == [ids]


LRS_FAILURES: dict[str, tuple[Callable[[FakeLrs], None], str]] = {
    "down": (FakeLrs.stop, "The LRS could not be reached (ConnectionError)."),
    "hangs": (lambda fake: setattr(fake, "hang", 5.0), "The LRS did not answer within 0.5 s."),
    "500": (lambda fake: fake.next_answers.append((500, "{}", {})),
            "The LRS had an error of its own (HTTP 500)."),
    "401": (lambda fake: fake.next_answers.append((401, "{}", {})),
            "The LRS did not accept the username and password (HTTP 401); statements wait "
            "until the credentials are corrected"),
    "403": (lambda fake: fake.next_answers.append((403, "{}", {})),
            "does not allow these credentials to send statements (HTTP 403)"),
    "redirect": (lambda fake: fake.next_answers.append((302, "{}", {"Location": "/x"})),
                 "answered HTTP 302 instead of accepting the statements"),
}  # fmt: skip


@pytest.mark.parametrize("failure", sorted(LRS_FAILURES))
def test_an_lrs_that_fails_delays_every_statement_and_loses_none(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock, failure: str
) -> None:
    source = add_lrs(db, fake_lrs, scene.registration_id)
    first = [answer(db, scene, n) for n in range(1, 4)]
    fail, words = LRS_FAILURES[failure]
    fail(fake_lrs)
    assert deliver(db, scene) == 0
    failing = sender(db, source.id)
    assert words in str(failing.send_error)
    assert "The tool tries again in 30 s." in str(failing.send_error)
    assert failing.send_retry_at == frozen_clock.now() + timedelta(seconds=30)
    assert [(row.attempts, row.delivered_at) for row in rows(db)] == [(1, None)] * 3
    assert words in str(rows(db)[0].last_error)
    later = [answer(db, scene, n) for n in range(4, 6)]  # while the LRS is failing
    assert deliver(db, scene) == 0  # held back until the wait is over
    if failure == "down":
        fake_lrs.start()
    fake_lrs.hang = 0.0
    fake_lrs.released.set()
    frozen_clock.advance(timedelta(seconds=30))
    assert deliver(db, scene) == 5
    # In the order they happened (a hung LRS may also finish storing the first batch late).
    assert first + later in fake_lrs.accepted
    assert sorted(fake_lrs.received) == sorted(first + later)  # each once
    recovered = sender(db, source.id)
    assert recovered.send_failures == 0
    assert (recovered.send_retry_at, recovered.send_error) == (None, None)
    assert all(row.delivered_at is not None and row.last_error is None for row in rows(db))


def test_a_busy_lrs_gets_the_wait_it_asks_for_and_failures_in_a_row_wait_longer(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock
) -> None:
    source = add_lrs(db, fake_lrs, scene.registration_id)
    answer(db, scene, 1)
    fake_lrs.next_answers.append((429, "{}", {"Retry-After": "120"}))
    deliver(db, scene)
    assert sender(db, source.id).send_retry_at == frozen_clock.now() + timedelta(seconds=120)
    assert "asked the tool to slow down (HTTP 429)" in str(sender(db, source.id).send_error)
    waits = []
    fake_lrs.answer = (503, "{}", {})
    for _ in range(9):
        frozen_clock.advance(timedelta(hours=1))
        deliver(db, scene)
        failing = sender(db, source.id)
        assert failing.send_retry_at is not None
        waits.append((failing.send_retry_at - frozen_clock.now()).total_seconds())
    assert 30 <= waits[0] <= 60 <= waits[1] <= 120 <= waits[2] <= 240
    assert 1800 <= waits[-1] <= 3600  # capped, still spread
    assert rows(db)[0].attempts == 10


@pytest.mark.parametrize("attempt", range(12))
def test_backoff_doubles_with_jitter_within_its_bounds(attempt: int) -> None:
    ceiling = min(30 * 2**attempt, 3600)
    for _ in range(20):
        assert max(30, ceiling / 2) <= SETTINGS.backoff(attempt) <= ceiling
    assert lrs.backoff(attempt, 7200.0, first=30, most=3600) == 3600  # Retry-After, capped


def test_a_refused_batch_is_sent_one_by_one_and_only_the_bad_statement_waits(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock
) -> None:
    source = add_lrs(db, fake_lrs, scene.registration_id)
    ids = [answer(db, scene, n) for n in range(1, 4)]
    fake_lrs.refuse = {ids[1]}
    assert deliver(db, scene) == 2
    assert [r["method"] for r in fake_lrs.requests] == ["POST", "PUT", "PUT", "PUT"]
    assert fake_lrs.requests[1]["args"] == {"statementId": ids[0]}
    assert fake_lrs.accepted == [[ids[0]], [ids[2]]]
    good, bad, other = rows(db)
    assert good.delivered_at is not None
    assert other.delivered_at is not None
    assert (bad.delivered_at, bad.failed_at, bad.attempts) == (None, None, 1)
    assert bad.last_error == ("The LRS refused the statement(s): HTTP 400: statement is not "
                              "acceptable. Tried again in 30 s.")  # fmt: skip
    assert sender(db, source.id).send_error is None  # the LRS is fine
    fake_lrs.refuse = set()
    frozen_clock.advance(timedelta(seconds=30))
    assert deliver(db, scene) == 1
    assert rows(db)[1].delivered_at is not None


def test_a_statement_the_lrs_holds_another_version_of_is_given_up_on_in_words(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock
) -> None:
    add_lrs(db, fake_lrs, scene.registration_id)
    ids = [answer(db, scene, n) for n in range(1, 3)]
    fake_lrs.received[ids[0]] = {"id": ids[0], "other": "content"}
    assert deliver(db, scene) == 1
    held, sent = rows(db)
    assert (held.delivered_at, held.failed_at) == (None, frozen_clock.now())
    assert "holds a different statement under this id (HTTP 409)" in str(held.last_error)
    assert "will not send it again" in str(held.last_error)
    assert sent.delivered_at is not None
    frozen_clock.advance(timedelta(days=1))
    assert deliver(db, scene) == 0
    assert fake_lrs.received[ids[0]] == {"id": ids[0], "other": "content"}


@pytest.mark.parametrize("conflict_on_resend", [False, True])
def test_a_worker_killed_after_the_lrs_accepted_resends_the_same_ids_harmlessly(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch, conflict_on_resend: bool,
) -> None:  # fmt: skip
    add_lrs(db, fake_lrs, scene.registration_id)
    fake_lrs.conflict_on_resend = conflict_on_resend
    ids = [answer(db, scene, n) for n in range(1, 3)]

    def dies(*args: Any) -> None:
        raise Killed

    monkeypatch.setattr(delivery, "_mark", dies)
    with pytest.raises(Killed):
        deliver(db, scene)
    monkeypatch.undo()
    db.session.rollback()
    assert fake_lrs.accepted == [ids]
    assert deliver(db, scene) == 0  # the rows are still the dead worker's ...
    frozen_clock.advance(SETTINGS.lease)  # ... until its lease ends
    assert deliver(db, scene) == 2
    assert sorted(fake_lrs.received) == sorted(ids)  # the LRS holds each once
    assert all(row.delivered_at is not None and row.failed_at is None for row in rows(db))


def test_the_password_is_stored_encrypted_and_never_logged(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source = add_lrs(db, fake_lrs, scene.registration_id)
    assert PASSWORD.encode() not in source.password_encrypted
    assert crypto.decrypt(source.password_encrypted) == PASSWORD.encode()
    answer(db, scene, 1)
    fake_lrs.next_answers.append((401, "{}", {}))
    deliver(db, scene)
    assert "did not accept the username and password" in caplog.text
    basic = b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert PASSWORD not in caplog.text
    assert basic not in caplog.text


def test_an_lrs_over_plain_http_is_not_sent_to_in_production(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs
) -> None:
    source = add_lrs(db, fake_lrs, scene.registration_id)
    answer(db, scene, 1)
    deliver(db, scene, delivery.DeliverySettings(50, 30.0, 3600.0, 0.5, production=True))
    assert "must use https://" in str(sender(db, source.id).send_error)
    assert fake_lrs.requests == []
    assert rows(db)[0].delivered_at is None


def test_the_sweep_sends_a_delivery_for_each_registration_with_statements_due(
    db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs, frozen_clock: FixedClock,
    broker: Callable[[], list[object]],
) -> None:  # fmt: skip
    answer(db, scene, 1)
    assert delivery.sweep(db.session(), SETTINGS) == []  # no LRS to send to
    source = add_lrs(db, fake_lrs, scene.registration_id)
    broker()
    assert delivery.sweep(db.session(), SETTINGS) == [scene.registration_id]
    assert broker() == ["xapi.deliver_outbox", [scene.registration_id]]
    fake_lrs.stop()
    deliver(db, scene)
    assert delivery.sweep(db.session(), SETTINGS) == []  # the LRS is waited for
    frozen_clock.advance(timedelta(seconds=30))
    assert delivery.sweep(db.session(), SETTINGS) == [scene.registration_id]
    assert sender(db, source.id).send_failures == 1


def test_beat_sweeps_the_outbox(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["deliver-xapi-outbox"] == {"task": "xapi.deliver_outbox", "schedule": 30}


def test_emit_refuses_a_statement_without_an_id_or_not_valid(db: SQLAlchemy, scene: Scene) -> None:
    statement = builders.asked_question(scene, question_id=1, text="?", at=datetime.now(UTC))
    with pytest.raises(StatementError, match="needs a UUID id of its own"):
        outbox.emit(db.session(), scene.registration_id, {**statement, "id": "nope"})
    with pytest.raises(StatementError):
        outbox.emit(db.session(), scene.registration_id, {**statement, "verb": {"id": "asked"}})
    db.session.rollback()
    assert rows(db) == []
