"""Tasks are sent only after the transaction that needs them commits."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool.jobs import enqueue_after_commit
from lti_tool.ops.tasks import heartbeat
from tests.factories import PersonFactory


@pytest.fixture
def broker(app: Flask) -> Iterator[Callable[[], list[object]]]:
    """Read what reached the (in-memory, real kombu) broker's queue."""
    celery: Celery = app.extensions["celery"]
    queue_name = celery.conf.task_default_queue

    def drain() -> list[object]:
        bodies = []
        with celery.connection_for_read() as connection:
            queue = connection.SimpleQueue(queue_name)
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return bodies
                bodies.append(message.headers["task"])
                bodies.append(message.payload[0])
                message.ack()

    drain()
    yield drain
    drain()


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
