"""The automatic session reminder: VM_MENTORING_SESSION_REMINDER_HOURS before a session, once
to each learner going (or maybe), in the panel and by email, never after the start."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Person, Role
from lti_tool.extensions import close_connections
from lti_tool.extensions import db as _db
from lti_tool.mentoring import dispatch, outgoing, reminders, tasks
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    Message,
    MessageKind,
    Rsvp,
    RsvpAnswer,
    Sequence,
)
from tests.conftest import own_database
from tests.console import seed_roster
from tests.console.seed_roster import Seeded
from tests.helpers.seed import platform_course
from tests.helpers.smtp import Mailbox

seeded = seed_roster.seeded  # the fixture: a session on 2026-12-01 13:00 UTC, Ana and Dan
# going, Cleo maybe, Ben on the waiting list; the clock on 2026-11-25 09:00 UTC.
TITLE = "Reminder: Office hours"


def _at(clock: FixedClock, day: int, hour: int, minute: int = 0) -> None:
    clock.at = clock.at.replace(month=12 if day < 20 else 11, day=day, hour=hour, minute=minute)


def _reminded(db: SQLAlchemy) -> dict[int, DeliveryStatus]:
    """Who has the automatic reminder, after the dispatcher ran, and where it stands."""
    dispatch.dispatch_due(db.session())
    rows = db.session.execute(
        select(Delivery.person_id, Delivery.status)
        .join(Journey, Journey.id == Delivery.journey_id)
        .join(Sequence, Sequence.id == Journey.sequence_id)
        .where(Sequence.name.like("Automatic reminder of session %"))
    ).all()  # fmt: skip
    return {int(person): DeliveryStatus(status) for person, status in rows}


def _delivered(db: SQLAlchemy) -> set[int]:
    return {p for p, status in _reminded(db).items() if status == DeliveryStatus.DELIVERED}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_reminder_goes_a_day_before_to_those_going_or_maybe_in_panel_and_email(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock,
    smtp_on: Mailbox,
) -> None:  # fmt: skip
    _at(frozen_clock, 30, 12, 59)  # a minute before the reminder time
    assert reminders.sweep(db.session()) == 0
    assert _reminded(db) == {}
    _at(frozen_clock, 30, 13, 0)
    assert reminders.sweep(db.session()) == 3
    assert _delivered(db) == {seeded.ana, seeded.dan, seeded.cleo}  # not Ben (waiting list)

    panel = client.get("/panel/", query_string={"lt": seeded.token(app, seeded.ana, Role.LEARNER)})
    assert TITLE in panel.text
    assert "Tuesday 1 December 2026, 14:00\u201315:00 (Europe/Paris)" in panel.text
    assert "Room 4" in panel.text

    ids = list(db.session.scalars(select(Delivery.id).join(Message).where(Message.title == TITLE)))
    assert outgoing.send_copies(db.session(), "email", ids, 1) == 3
    subjects = sorted(message["Subject"] for message in smtp_on.messages())
    assert subjects == [TITLE] * 3

    page = client.get("/console/sessions", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert "Automatic reminder Sent to 3 learners, from 30 November 2026, 14:00 (Europe/Paris)." \
        in _text(page.text)  # fmt: skip


def test_running_the_sweep_again_reminds_each_learner_once(
    db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock
) -> None:
    _at(frozen_clock, 30, 13, 0)
    assert reminders.sweep(db.session()) == 3
    frozen_clock.advance(timedelta(hours=2))
    assert reminders.sweep(db.session()) == 0
    assert _delivered(db) == {seeded.ana, seeded.dan, seeded.cleo}
    assert db.session.scalar(select(func.count()).select_from(Delivery).join(Message).where(
        Message.title == TITLE)) == 3  # fmt: skip


def _seed_going(app: Flask, learners: int) -> None:
    """A course whose learners all said they are going to a session the next day."""
    with app.app_context():
        registration, course = platform_course(_db.session())
        people = [Person(registration_id=registration.id, subject=str(n), time_zone="UTC")
                  for n in range(learners)]  # fmt: skip
        _db.session.add_all(people)
        meeting = Message(registration_id=registration.id, kind=MessageKind.SESSION,
                          title="Visit", details=RACE_SESSION)  # fmt: skip
        _db.session.add(meeting)
        _db.session.flush()
        _db.session.add_all(Rsvp(message_id=meeting.id, person_id=person.id,
                                 course_id=course.id, answer=RsvpAnswer.GOING)
                            for person in people)  # fmt: skip
        _db.session.commit()


RACE_SESSION = {"starts_at": "2030-01-15T14:00:00+00:00", "ends_at": "2030-01-15T15:00:00+00:00",
                "place": "Room 4", "time_zone": "UTC"}  # fmt: skip


def test_sweeps_racing_on_their_own_connections_remind_each_learner_once(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    with own_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url, BROKER_URL="memory://", XAPI_TOOL_URL="https://m.example")
        app.extensions["clock"] = FixedClock(datetime(2030, 1, 14, 15, 0, tzinfo=UTC))
        with app.app_context():
            flask_migrate.upgrade()
        _seed_going(app, 6)
        start = threading.Barrier(4)
        results: list[int] = []
        errors: list[BaseException] = []

        def sweep() -> None:
            with app.app_context():
                try:
                    start.wait()
                    results.append(reminders.sweep(_db.session()))
                except BaseException as error:  # shown by the test, not lost in the thread
                    errors.append(error)
                finally:
                    _db.session.remove()

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sum(results) == 6
        with app.app_context():
            reminded = _db.session.scalars(select(Delivery.person_id)).all()
            plans = _db.session.scalars(select(Sequence.name)).all()
            close_connections()
        assert len(reminded) == len(set(reminded)) == 6
        assert plans == ["Automatic reminder of session 1"]


def _rsvp(client: FlaskClient, app: Flask, seeded: Seeded, person: int, answer: str) -> Any:
    delivery = db_delivery(seeded, person)
    return client.post(f"/panel/rsvp/{delivery}", data={
        "lt": seeded.token(app, person, Role.LEARNER), "answer": answer})  # fmt: skip


def db_delivery(seeded: Seeded, person: int) -> int:
    """The learner's invitation to the seeded session."""
    return int(_db.session.scalars(select(Delivery.id).where(
        Delivery.message_id == seeded.session, Delivery.person_id == person)).one())  # fmt: skip


def test_not_going_gets_none_and_a_late_going_gets_it_at_once(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock
) -> None:
    _at(frozen_clock, 29, 9, 0)
    assert _rsvp(client, app, seeded, seeded.dan, "not_going").status_code < 400
    # Dan's place goes to Ben, first on the waiting list, before the reminder time: nothing yet.
    assert _reminded(db) == {}
    _at(frozen_clock, 30, 13, 0)
    reminders.sweep(db.session())
    assert _delivered(db) == {seeded.ana, seeded.ben, seeded.cleo}
    # After the reminder time, Dan changes his mind again (the session is full: maybe): he is
    # reminded at once.
    _at(frozen_clock, 30, 18, 0)
    assert _rsvp(client, app, seeded, seeded.dan, "maybe").status_code < 400
    assert seeded.dan in _delivered(db)


def test_a_reminder_held_for_quiet_hours_is_skipped_when_they_say_they_cannot_come(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock
) -> None:
    _at(frozen_clock, 30, 22, 30)  # Ana's quiet hours (UTC, the defaults: 21:00 to 08:00)
    reminders.sweep(db.session())
    assert _reminded(db)[seeded.ana] == DeliveryStatus.HELD
    assert _rsvp(client, app, seeded, seeded.ana, "not_going").status_code < 400
    _at(frozen_clock, 1, 8, 30)
    assert _reminded(db)[seeded.ana] == DeliveryStatus.SKIPPED


def test_a_reminder_still_held_when_the_session_begins_is_skipped(
    db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock, app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setitem(app.config, "MENTORING_SESSION_REMINDER_HOURS", 2)
    _at(frozen_clock, 1, 11, 30)
    db.session.execute(Rsvp.__table__.update().values(answer=RsvpAnswer.MAYBE))
    db.session.commit()
    monkeypatch.setitem(app.config, "MENTORING_QUIET_START", "11:00")
    monkeypatch.setitem(app.config, "MENTORING_QUIET_END", "14:00")
    reminders.sweep(db.session())
    assert set(_reminded(db).values()) == {DeliveryStatus.HELD}
    _at(frozen_clock, 1, 13, 0)  # it begins
    assert reminders.sweep(db.session()) == 0
    _at(frozen_clock, 1, 14, 0)
    assert set(_reminded(db).values()) == {DeliveryStatus.SKIPPED}


def test_none_after_the_start_and_none_when_switched_off(
    app: Flask, db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setitem(app.config, "MENTORING_SESSION_REMINDER_HOURS", 0)
    _at(frozen_clock, 30, 13, 0)
    assert reminders.sweep(db.session()) == 0
    monkeypatch.setitem(app.config, "MENTORING_SESSION_REMINDER_HOURS", 24)
    _at(frozen_clock, 1, 13, 0)  # the session has begun: too late
    assert reminders.sweep(db.session()) == 0
    assert _reminded(db) == {}
    assert db.session.scalar(select(func.count()).select_from(Sequence).where(
        Sequence.name.like("Automatic%"))) == 0  # fmt: skip


def test_the_beat_runs_the_sweep(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["remind-sessions"]["task"] == reminders.TASK
    assert schedule["remind-sessions"]["schedule"] == 60
    assert tasks.remind_sessions.name == reminders.TASK
