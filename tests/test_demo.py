"""The demo commands a newcomer runs through ``make demo``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from click import BadParameter
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool import clock
from lti_tool.demo import parse_duration
from lti_tool.models import PlatformRegistration, RegistrationStatus


def test_seed_registers_the_embedded_platform_once(runner: FlaskCliRunner, db: SQLAlchemy) -> None:
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed", "--base-url", "http://127.0.0.1:8123/"])
        assert result.exit_code == 0, result.output
        assert "registered as http://127.0.0.1:8123/dev-platform" in result.output
    registration = db.session.scalars(select(PlatformRegistration)).one()
    assert registration.status is RegistrationStatus.ACTIVE
    assert registration.key_set_url == "http://127.0.0.1:8123/dev-platform/jwks"
    assert [d.deployment_id for d in registration.deployments] == ["demo-deployment-1"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("2d", 172800), ("6h", 21600), ("15m", 900), ("30s", 30)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2", "-1d", "1w", "1.5h", "d2"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(BadParameter, match="is not a duration like 2d, 6h, 15m or 30s"):
        parse_duration(text)


def test_demo_clock_moves_every_process_forward(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """Advanced by the CLI, the demo clock is seen by the app (as by workers and beat)."""
    app = make_app(DEMO_CLOCK=True, DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "clock", "--advance", "2d"])
    assert result.exit_code == 0, result.output
    assert "2d 0h 0m ahead" in result.output
    with app.app_context():
        app.extensions["clock"].forget()
        ahead = clock.now() - datetime.now(UTC)
    assert timedelta(days=2) - timedelta(seconds=5) < ahead <= timedelta(days=2, seconds=5)
    assert "0d 0h 0m ahead" in runner.invoke(args=["demo", "clock", "--reset"]).output


def test_demo_clock_refuses_when_off(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "clock", "--advance", "1d"])
    assert result.exit_code != 0
    assert "The demo clock is off" in result.output


def test_demo_commands_do_not_exist_in_production() -> None:
    """Production cannot even build an app with the demo clock on; the group refuses too."""
    from lti_tool.demo import demo_cli

    app = Flask("production-check")
    app.config["ENV"] = "production"
    result = app.test_cli_runner().invoke(demo_cli, ["seed"])
    assert result.exit_code != 0
    assert "not available in production" in result.output


class _Processes:
    """Stands in for honcho's process manager: keeps what ``demo run`` would start."""

    started: dict[str, tuple[str, dict[str, str]]]

    def __init__(self) -> None:
        type(self).started = {}
        self.returncode = 0

    def add_process(self, name: str, cmd: str, env: dict[str, str] | None = None) -> None:
        type(self).started[name] = (cmd, dict(env or {}))

    def loop(self) -> None:
        """Nothing runs."""


@pytest.mark.parametrize(
    ("configured", "expected"),
    [("", "http://127.0.0.1:8123/"), ("https://mentor.example.org", "https://mentor.example.org")],
)
def test_demo_run_gives_its_processes_the_address_the_demo_is_served_on(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, configured: str, expected: str
) -> None:
    """The worker builds email links and statements outside any request: without an
    address it failed every email of a demo given an SMTP server."""
    import honcho.manager

    from lti_tool import demo

    monkeypatch.setattr(honcho.manager, "Manager", _Processes)
    monkeypatch.setattr(demo, "_announce_when_up", lambda url: None)
    monkeypatch.setitem(runner.app.config, "XAPI_TOOL_URL", configured)
    result = runner.invoke(args=["demo", "run", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert set(_Processes.started) == {"web", "worker", "beat"}
    assert "127.0.0.1:8123" in _Processes.started["web"][0]
    for _cmd, env in _Processes.started.values():
        assert env["VM_XAPI_TOOL_URL"] == expected
