"""Health, readiness and the start page, as an operator and a newcomer meet them."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.clock import FixedClock
from lti_tool.ops.services import record_heartbeat
from tests.factories import EnrollmentFactory


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_healthz_answers_without_touching_dependencies(make_app: Callable[..., Flask]) -> None:
    app = make_app(DATABASE_URL=f"postgresql://nobody@127.0.0.1:{_closed_port()}/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_when_database_and_broker_answer(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["broker"]["ok"] is True


def test_readyz_names_an_unreachable_database(make_app: Callable[..., Flask]) -> None:
    url = f"postgresql://vm:hunter2@127.0.0.1:{_closed_port()}/vm"
    response = make_app(DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT=1).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["error"].startswith("database unreachable")
    assert response.json["checks"]["broker"]["ok"] is True
    assert "hunter2" not in response.get_data(as_text=True)


def test_readyz_names_an_unreachable_broker(make_app: Callable[..., Flask]) -> None:
    url = f"redis://:hunter2@127.0.0.1:{_closed_port()}/0"
    response = make_app(BROKER_URL=url, BROKER_CONNECT_TIMEOUT=1).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"].startswith("broker unreachable")
    assert response.json["checks"]["database"]["ok"] is True
    assert "hunter2" not in response.get_data(as_text=True)


def test_readyz_reports_how_long_ago_the_workers_beat(
    client: FlaskClient, db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    record_heartbeat(db.session(), "heartbeat", "worker-1")
    frozen_clock.advance(timedelta(seconds=42))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["jobs"] == {"heartbeat_age_s": 42.0, "running": True}


@pytest.mark.parametrize("age", [None, 120, 600])
def test_readyz_says_the_workers_are_not_running_when_they_stopped_beating(
    client: FlaskClient, db: SQLAlchemy, frozen_clock: FixedClock, age: int | None
) -> None:
    """With beats every 15 s, 2 minutes without one means no worker or no beat runs; the web
    tier stays ready (the panel and the statement endpoint do not need them)."""
    if age is not None:
        record_heartbeat(db.session(), "heartbeat", "worker-1")
        frozen_clock.advance(timedelta(seconds=age))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["jobs"] == {"heartbeat_age_s": age and float(age), "running": False}


def test_start_page_shows_status_and_courses(client: FlaskClient, db: SQLAlchemy) -> None:
    EnrollmentFactory.create_batch(2, course__title="Safety at Work", course__label="SAW")
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mentoring inside your course" in html
    assert "Waiting for the first run of the workers" in html
    assert "Safety at Work (SAW)" in html


def test_start_page_says_when_workers_stopped(
    client: FlaskClient, db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    record_heartbeat(db.session(), "heartbeat", "worker-1")
    frozen_clock.advance(timedelta(minutes=10))
    assert "Not running" in client.get("/").get_data(as_text=True)


def test_xapi_about_lists_supported_versions(client: FlaskClient) -> None:
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert response.json == {"version": ["1.0.3", "2.0.0"]}
