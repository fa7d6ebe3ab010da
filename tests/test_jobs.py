"""Tasks are sent only after the transaction that needs them commits."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool import redis_transport
from lti_tool.jobs import enqueue_after_commit
from lti_tool.ops.tasks import heartbeat
from tests.factories import PersonFactory


def test_task_is_sent_when_the_transaction_commits(
    db: SQLAlchemy, broker: Callable[[], list[object]]
) -> None:
    PersonFactory()
    enqueue_after_commit(heartbeat, "after-commit")
    assert broker() == []  # nothing before the commit
    db.session.commit()
    assert broker() == ["ops.heartbeat", ["after-commit"]]


def test_task_is_dropped_when_the_transaction_rolls_back(
    db: SQLAlchemy, broker: Callable[[], list[object]]
) -> None:
    enqueue_after_commit(heartbeat, "rolled-back")
    db.session.rollback()
    db.session.commit()
    assert broker() == []


def test_tasks_take_ids_not_objects(db: SQLAlchemy) -> None:
    person = PersonFactory()
    with pytest.raises(TypeError, match="must be sent ids, not Person"):
        enqueue_after_commit(heartbeat, person)


def test_a_broker_outage_at_commit_keeps_the_commit_and_logs(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(BROKER_URL=f"redis://127.0.0.1:{port}/0", BROKER_CONNECT_TIMEOUT=1)
    with app.app_context():
        from lti_tool.extensions import db

        enqueue_after_commit(heartbeat, "broker-down")
        db.session.commit()  # must not raise: the row is safe, the sweep will resend
    assert "Could not send ops.heartbeat to the broker" in caplog.text


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0"])
def test_a_redis_broker_goes_through_the_transport_that_outlives_a_lost_connection(
    make_app: Callable[..., Flask], url: str
) -> None:
    # tests/integration/test_broker_restarts.py kills Redis under working workers; this only
    # checks the wiring, and that kombu still treats the URL as its own (logs, rediss's TLS).
    connection = make_app(BROKER_URL=url).extensions["celery"].connection_for_write()
    assert isinstance(connection.transport, redis_transport.Transport)
    scheme = url.split(":", 1)[0]
    assert connection.as_uri() == f"{scheme}://:**@127.0.0.1:1/0"
