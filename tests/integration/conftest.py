"""Fixtures for tests that run real workers against real services."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.database import read_only
from lti_tool.extensions import close_connections, db
from lti_tool.ops.models import JobHeartbeat
from tests.conftest import TEST_SECRET_KEY, own_database
from tests.helpers.services import service_url

#: Builds the app on real services; see ``on_services``.
OnServices = Callable[..., AbstractContextManager[tuple[Flask, dict[str, str]]]]


@pytest.fixture
def worker_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Environment for a worker or beat process that shares the test's database and broker."""

    def build(database_url: str, broker_url: str, queue: str, **extra: str) -> dict[str, str]:
        return {
            "VM_ENV": "testing",
            "VM_SECRET_KEY": TEST_SECRET_KEY,
            "VM_DATABASE_URL": database_url,
            "VM_BROKER_URL": broker_url,
            "VM_BROKER_QUEUE": queue,
            "VM_INSTANCE_PATH": str(tmp_path),
            "VM_DEMO_CLOCK": "false",
            "VM_LTI_EMBEDDED_PLATFORM": "false",
            **extra,
        }

    return build


@pytest.fixture
def on_services(
    make_app: Callable[..., Flask],
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> OnServices:
    """``on_services(settings, broker_url=None)``: the app on a PostgreSQL schema of its own
    (migrated) with Redis (or ``broker_url``) as its broker on a queue of its own, and
    ``settings``; yields it and the environment that workers and beat share it by (the
    settings as ``VM_`` variables). The queue is deleted and the connections closed after."""

    @contextlib.contextmanager
    def build(
        settings: dict[str, Any], broker_url: str | None = None
    ) -> Iterator[tuple[Flask, dict[str, str]]]:
        service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
        broker = broker_url or service_url("VM_TEST_REDIS_URL", "Redis")
        with own_database(tmp_path) as url:
            app = make_app(DATABASE_URL=url, BROKER_URL=broker, BROKER_QUEUE=queue_name,
                           **settings)  # fmt: skip
            celery = app.extensions["celery"]
            celery.set_default()  # the wake-ups go through Celery's current app: this one's
            celery.set_current()
            try:
                with app.app_context():
                    flask_migrate.upgrade()
                variables = {f"VM_{key}": _variable(value) for key, value in settings.items()}
                yield app, worker_env(url, broker, queue_name, **variables)
            finally:
                with celery.connection_for_write() as connection:
                    connection.default_channel.queue_delete(queue_name)
                with app.app_context():
                    close_connections()

    return build


def _variable(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture
def queue_name() -> str:
    """A queue of this test's own, so parallel or leftover workers cannot take its tasks."""
    return f"vm-test-{secrets.token_hex(4)}"


def read_heartbeat(app: Flask, name: str) -> JobHeartbeat | None:
    """The heartbeat row as committed (read outside any open transaction)."""
    with app.app_context(), db.engine.connect() as connection:
        row = (
            read_only(connection)
            .execute(
                select(JobHeartbeat.name, JobHeartbeat.beat_at, JobHeartbeat.hostname).where(
                    JobHeartbeat.name == name
                )
            )
            .first()
        )
    return None if row is None else JobHeartbeat(name=row[0], beat_at=row[1], hostname=row[2])


#: Figures measured by the fault tests ("FAULT <name>: <seconds> s"), shown after the run.
FAULT_FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the fault tests' measured recovery times, one line each."""
    if FAULT_FIGURES:
        terminalreporter.section("recovery times measured")
        for line in FAULT_FIGURES:
            terminalreporter.write_line(line)
