"""Retention of raw statements (VM_XAPI_RETENTION_DAYS) and of sent outbox statements
(VM_XAPI_OUTBOX_RETENTION_DAYS), purged by the beat task privacy.purge_expired."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.extensions import celery_settings
from lti_tool.privacy import retention, tasks
from lti_tool.settings import ConfigError, validate
from tests.factories import RegistrationFactory
from xapi.models import OutboxStatement, Statement


def _world(db: SQLAlchemy, clock: FixedClock) -> None:
    """Statements stored 400 and 10 days ago, the events made of them, and outbox statements:
    one sent 100 days ago, one sent yesterday, one never sent (written 400 days ago)."""
    registration = RegistrationFactory()
    now = clock.now()
    for name, days in (("old", 400), ("new", 10)):
        at = now - timedelta(days=days)
        db.session.add(Statement(registration_id=registration.id, statement_id=f"{name}-st",
                                 version="1.0.3", body={"id": name}, stored=at))  # fmt: skip
        db.session.add(LearningEvent(
            idempotency_key=name, registration_id=registration.id, actor={}, verb="v",
            activity_id="a", occurred_at=at, source=EventSource.XAPI, raw={"id": name},
            recorded_at=at,
        ))  # fmt: skip
    for name, written, sent in (("sent-long-ago", 120, 100), ("sent-yesterday", 2, 1),
                                ("never-sent", 400, None)):  # fmt: skip
        db.session.add(OutboxStatement(
            registration_id=registration.id, statement_id=name, kind="asked", body={},
            created_at=now - timedelta(days=written), next_attempt_at=now,
            delivered_at=None if sent is None else now - timedelta(days=sent),
        ))  # fmt: skip
    db.session.commit()


def _left(db: SQLAlchemy) -> tuple[list[str], list[Any], list[str]]:
    db.session.expire_all()
    return (
        db.session.scalars(select(Statement.statement_id).order_by(Statement.id)).all(),
        db.session.scalars(select(LearningEvent.raw).order_by(LearningEvent.id)).all(),
        db.session.scalars(select(OutboxStatement.statement_id).order_by(OutboxStatement.id)).all(),
    )  # type: ignore[return-value]


def test_the_beat_task_purges_what_the_settings_no_longer_keep(
    db: SQLAlchemy, app: Flask, frozen_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The task as this app's Celery runs it (in this app's context, with its clock).
    purge_expired = app.extensions["celery"].tasks[tasks.purge_expired.name]
    monkeypatch.setitem(app.config, "XAPI_RETENTION_DAYS", 365)
    monkeypatch.setitem(app.config, "XAPI_OUTBOX_RETENTION_DAYS", 90)
    _world(db, frozen_clock)

    assert purge_expired() == {"statements": 1, "event_copies": 1, "outbox": 1}

    statements, raws, outbox = _left(db)
    assert statements == ["new-st"]
    assert raws == [{}, {"id": "new"}]  # the old event stays, without its raw copy
    assert outbox == ["sent-yesterday", "never-sent"]  # never sent: never purged
    assert purge_expired() == {"statements": 0, "event_copies": 0, "outbox": 0}

    frozen_clock.advance(timedelta(days=400))  # everything is old now, but 0 keeps for ever
    monkeypatch.setitem(app.config, "XAPI_OUTBOX_RETENTION_DAYS", 0)
    assert purge_expired() == {"statements": 1, "event_copies": 1, "outbox": 0}
    assert _left(db)[2] == ["sent-yesterday", "never-sent"]


def test_purging_goes_in_batches_until_nothing_is_left(
    db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    _world(db, frozen_clock)
    frozen_clock.advance(timedelta(days=1000))
    purged = retention.purge(db.session(), retention.Retention(1, 1, batch=1))
    assert purged == retention.Purged(statements=2, event_copies=2, outbox=2)
    assert _left(db) == ([], [{}, {}], ["never-sent"])


def test_beat_runs_the_purge_and_the_settings_refuse_negative_days(
    app: Flask, tmp_path: Path
) -> None:
    schedule = celery_settings(app.config, tmp_path)["beat_schedule"]
    assert schedule["purge-expired-statements"]["task"] == tasks.purge_expired.name
    with pytest.raises(ConfigError, match="VM_XAPI_RETENTION_DAYS is -1"):
        validate({**app.config, "XAPI_RETENTION_DAYS": -1})


def test_the_purge_command_says_what_it_removed(
    db: SQLAlchemy, app: Flask, frozen_clock: FixedClock, runner: Any
) -> None:
    _world(db, frozen_clock)
    output = runner.invoke(args=["privacy", "purge"]).output
    assert "Purged 1 statement(s) and 1 sent outbox statement(s)" in output
