"""A task committed in the web process runs on a real Celery worker, on every broker we support.

The embedded broker (files) and SQLite need no server; Redis and RabbitMQ are the
production brokers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask

from lti_tool.extensions import db
from lti_tool.jobs import enqueue_after_commit
from lti_tool.ops.tasks import heartbeat
from tests.helpers.processes import celery_command, running, wait_for
from tests.helpers.services import service_url
from tests.integration.conftest import read_heartbeat

WORKER = celery_command(
    "worker",
    "--pool",
    "solo",
    "--without-mingle",
    "--without-gossip",
    "--without-heartbeat",
    "--loglevel",
    "INFO",
)


def _round_trip(app: Flask, env: dict[str, str], log: Path) -> None:
    name = f"round-trip-{env['VM_BROKER_QUEUE']}"
    with running(WORKER, env, log):
        with app.app_context():
            enqueue_after_commit(heartbeat, name)
            db.session.commit()
        beat = wait_for(lambda: read_heartbeat(app, name), 60, "the worker to run the task", log)
    assert beat.hostname  # type: ignore[attr-defined]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("variable", "what"),
    [("VM_TEST_REDIS_URL", "Redis"), ("VM_TEST_RABBITMQ_URL", "RabbitMQ")],
)
def test_round_trip_on_a_production_broker(
    variable: str,
    what: str,
    make_app: Callable[..., Flask],
    database_url: str,
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> None:
    broker_url = service_url(variable, what)
    app = make_app(BROKER_URL=broker_url, BROKER_QUEUE=queue_name)
    try:
        _round_trip(app, worker_env(database_url, broker_url, queue_name), tmp_path / "worker.log")
    finally:
        with app.extensions["celery"].connection_for_write() as connection:
            connection.default_channel.queue_delete(queue_name)


@pytest.fixture
def embedded_app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """The embedded default: a SQLite file and the filesystem broker, no server at all."""
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        BROKER_URL="filesystem://localhost/",
        INSTANCE_PATH=str(tmp_path),
    )
    with app.app_context():
        flask_migrate.upgrade()
    return app


@pytest.mark.slow
def test_round_trip_on_the_embedded_broker(
    embedded_app: Flask,
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> None:
    embedded_app.extensions["celery"].conf.task_default_queue = queue_name
    env = worker_env(embedded_app.config["DATABASE_URL"], "filesystem://localhost/", queue_name)
    _round_trip(embedded_app, env, tmp_path / "worker.log")


@pytest.mark.slow
def test_embedded_beat_runs_periodic_jobs_on_a_real_worker(
    embedded_app: Flask,
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> None:
    """Scheduled work in the demo behaves as in production: beat sends, a worker runs."""
    env = worker_env(
        embedded_app.config["DATABASE_URL"],
        "filesystem://localhost/",
        queue_name,
        VM_JOBS_HEARTBEAT_SECONDS="1",
    )
    beat_log, worker_log = tmp_path / "beat.log", tmp_path / "worker.log"
    beat_cmd = celery_command(
        "beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")
    )
    with running(WORKER, env, worker_log), running(beat_cmd, env, beat_log):
        first = wait_for(
            lambda: read_heartbeat(embedded_app, "heartbeat"),
            60,
            "the first periodic heartbeat",
            worker_log,
        )
        wait_for(
            lambda: (
                (beat := read_heartbeat(embedded_app, "heartbeat")) and beat.beat_at > first.beat_at
            ),  # type: ignore[attr-defined]
            30,
            "a second periodic heartbeat",
            beat_log,
        )
