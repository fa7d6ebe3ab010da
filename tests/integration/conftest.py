"""Fixtures for tests that run real workers against real services."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.database import read_only
from lti_tool.extensions import db
from lti_tool.ops.models import JobHeartbeat
from tests.conftest import TEST_SECRET_KEY


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
