"""Learning events reach the mentoring engine after commit: once each, with their topic,
once their learner is known; a lost wake-up or a failing consumer delays, never loses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import jobs
from lti_tool.events import handoff
from lti_tool.events.handoff import HandedEvent, hand_off
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.events.services import record, resolve_actors
from lti_tool.topics.services import add_topic
from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory

LMS = "https://lms.example.org"
PAGE = f"{LMS}/mod/page/view.php?id=7"
QUIZ = f"{LMS}/mod/quiz/view.php?id=12"


@pytest.fixture(autouse=True)
def clock_for_wakes(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock the wake-ups read, set by the test; no wake-up sent before."""
    now = [1_000_000.0]
    monkeypatch.setattr(jobs.time, "time", lambda: now[0])
    monkeypatch.setattr(handoff.WAKER, "starts_at", 0.0)
    return now


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[HandedEvent]:
    """What the engine would receive: every handed-off batch, in order."""
    got: list[HandedEvent] = []

    def consumer(session: Session, events: Sequence[HandedEvent]) -> None:
        got.extend(events)

    monkeypatch.setattr(handoff, "CONSUMERS", [consumer])
    return got


def _event(registration_id: int, key: str, **values: Any) -> dict[str, Any]:
    return {
        "idempotency_key": key, "registration_id": registration_id, "course_id": None,
        "person_id": None, "actor": {"account": {"homePage": LMS, "name": key}},
        "verb": "http://adlnet.gov/expapi/verbs/completed", "activity_id": PAGE,
        "occurred_at": datetime(2026, 11, 20, 9, 0, tzinfo=UTC), "source": EventSource.XAPI,
        "completion": True, **values,
    }  # fmt: skip


def _waiting(db: SQLAlchemy) -> list[str]:
    return list(
        db.session.scalars(
            select(LearningEvent.idempotency_key)
            .where(LearningEvent.handed_off_at.is_(None))
            .order_by(LearningEvent.id)
        )
    )


def test_new_events_wake_the_hand_off_after_commit_once_per_moment(
    db: SQLAlchemy, broker: Callable[[], list[object]], clock_for_wakes: list[float]
) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    record(db.session(), [_event(registration.id, "a")])
    assert broker() == []  # nothing before the commit
    db.session.commit()
    assert broker() == ["events.hand_off", []]
    clock_for_wakes[0] += handoff.WAKE_DELAY / 2  # the wake-up sent has not started yet:
    record(db.session(), [_event(registration.id, "b")])
    db.session.commit()
    assert broker() == []  # it will see this event too
    clock_for_wakes[0] += handoff.WAKE_DELAY
    record(db.session(), [_event(registration.id, "c")])
    db.session.commit()
    assert broker() == ["events.hand_off", []]


def test_nothing_new_or_rolled_back_wakes_nothing(
    db: SQLAlchemy, broker: Callable[[], list[object]], clock_for_wakes: list[float]
) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    record(db.session(), [_event(registration.id, "a")])
    db.session.commit()
    broker()
    clock_for_wakes[0] += 10
    assert record(db.session(), [_event(registration.id, "a")]) == 0  # recorded before
    db.session.commit()
    record(db.session(), [_event(registration.id, "b")])
    db.session.rollback()
    db.session.commit()
    assert broker() == []


def test_resolved_events_reach_the_engine_once_with_their_topics(
    db: SQLAlchemy, received: list[HandedEvent]
) -> None:
    registration = RegistrationFactory(issuer=LMS)
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    ana = PersonFactory(registration=registration, subject="3")
    db.session.commit()
    quizzes = add_topic(db.session(), registration.id, "Quizzes", activities=[f"{LMS}/mod/quiz/*"])
    listening = add_topic(
        db.session(), registration.id, "Listening", course_id=course.id, activities=[PAGE]
    )
    record(db.session(), [
        _event(registration.id, "page", person_id=ana.id, course_id=course.id),
        _event(registration.id, "quiz", person_id=ana.id, activity_id=QUIZ, success=True),
        _event(registration.id, "elsewhere", person_id=ana.id, activity_id=f"{LMS}/forum"),
        _event(registration.id, "unknown-learner"),
    ])  # fmt: skip
    db.session.commit()
    assert hand_off(db.session()) == 3
    assert [(e.activity_id, e.topic_id, e.person_id) for e in received] == [
        (PAGE, listening.id, ana.id), (QUIZ, quizzes.id, ana.id), (f"{LMS}/forum", None, ana.id),
    ]  # fmt: skip
    assert received[1].success is True
    assert received[0].course_id == course.id
    assert _waiting(db) == ["unknown-learner"]  # waits for its learner
    stored = dict(
        db.session.execute(select(LearningEvent.idempotency_key, LearningEvent.topic_id)).all()
    )
    assert stored["page"] == listening.id
    assert hand_off(db.session()) == 0  # nothing twice
    assert len(received) == 3


def test_an_event_waits_for_its_learner_and_goes_when_they_appear(
    db: SQLAlchemy,
    received: list[HandedEvent],
    broker: Callable[[], list[object]],
    clock_for_wakes: list[float],
) -> None:
    registration = RegistrationFactory(issuer=LMS)
    db.session.commit()
    record(db.session(), [_event(registration.id, "late")])
    db.session.commit()
    assert hand_off(db.session()) == 0
    broker()
    clock_for_wakes[0] += 60
    bea = PersonFactory(registration=registration, subject="late")  # she launches
    db.session.commit()
    assert resolve_actors(db.session()) == 1
    assert broker() == ["events.hand_off", []]  # resolving wakes the hand-off
    assert hand_off(db.session()) == 1
    assert [event.person_id for event in received] == [bea.id]


def test_a_failing_consumer_leaves_the_batch_waiting(
    db: SQLAlchemy, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration = RegistrationFactory(issuer=LMS)
    ana = PersonFactory(registration=registration)
    db.session.commit()
    add_topic(db.session(), registration.id, "Listening", activities=[PAGE])
    record(db.session(), [_event(registration.id, key, person_id=ana.id) for key in "ab"])
    db.session.commit()

    def broken(session: Session, events: Sequence[HandedEvent]) -> None:
        raise RuntimeError("the engine is broken")

    monkeypatch.setattr(handoff, "CONSUMERS", [broken])
    with pytest.raises(RuntimeError, match="the engine is broken"):
        hand_off(db.session())
    assert _waiting(db) == ["a", "b"]
    assert db.session.scalars(select(LearningEvent.topic_id)).all() == [None, None]
    got: list[int] = []
    monkeypatch.setattr(handoff, "CONSUMERS", [lambda s, events: got.extend(e.id for e in events)])
    assert hand_off(db.session(), batch=1) == 2  # batch by batch, each committed
    assert len(got) == 2
    assert _waiting(db) == []
