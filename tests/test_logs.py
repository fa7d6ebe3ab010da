"""Logs: one JSON object per line in production, readable text otherwise, with a request id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging(app_settings: dict[str, object]) -> Iterator[None]:
    yield
    configure_logging("text", "INFO", "testing")


def _our_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "lti_tool" in line]


def test_production_logs_are_json_lines_with_the_request_id(
    make_app: Callable[..., Flask], capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_FORMAT="json")
    response = app.test_client().get("/healthz?token=abc123", headers={"X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    lines = _our_lines(capsys.readouterr().err)
    records = [json.loads(line) for line in lines]
    access = next(r for r in records if r["logger"] == "lti_tool.access")
    assert access["request_id"] == "req-42"
    assert access["status"] == 200
    assert access["path"] == "/healthz"
    assert access["level"] == "INFO"
    assert "abc123" not in "\n".join(lines)  # query strings can carry tokens


def test_auto_format_is_json_only_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("auto", "INFO", "production")
    logging.getLogger("lti_tool.test").info("hello")
    assert json.loads(_our_lines(capsys.readouterr().err)[-1])["message"] == "hello"
    configure_logging("auto", "INFO", "development")
    logging.getLogger("lti_tool.test").info("hello")
    line = _our_lines(capsys.readouterr().err)[-1]
    assert line.endswith("lti_tool.test [-] hello")


def test_request_id_is_made_when_missing_or_unsafe(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    for unsafe in ("id <script>alert(1)</script>", "a" * 200):
        answered = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert answered != unsafe
        assert len(answered) == 32


def test_reconfiguring_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        configure_logging("text", "INFO", "development")
    logging.getLogger("lti_tool.test").info("once")
    assert len([ln for ln in _our_lines(capsys.readouterr().err) if ln.endswith("once")]) == 1


def test_task_log_lines_carry_the_task_id(
    make_app: Callable[..., Flask], db: SQLAlchemy, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_FORMAT="json")
    from lti_tool.ops.tasks import heartbeat

    with app.app_context():
        result = heartbeat.apply(args=["log-test"], task_id="task-1234")
    assert result.successful()
    lines = [json.loads(line) for line in _our_lines(capsys.readouterr().err)]
    recorded = next(r for r in lines if r["message"] == "Heartbeat log-test recorded")
    assert recorded["task_id"] == "task-1234"
