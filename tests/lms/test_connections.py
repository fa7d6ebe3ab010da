"""LMS connections as the tool's administrator manages them with ``flask --app wsgi lms …``:
checked before they are kept, the token never shown back, each tenant's courses only."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.courses.tasks import sync_due
from lti_tool.lms import connections
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lti.models import PlatformRegistration
from tests.factories import CourseFactory, DeploymentFactory, RegistrationFactory
from tests.lms.fake_moodle import TOKEN, FakeMoodle


@pytest.fixture
def registration(db: SQLAlchemy) -> PlatformRegistration:
    made = RegistrationFactory(issuer="https://moodle.example.org")
    CourseFactory(deployment=DeploymentFactory(registration=made), context_id="2")
    db.session.commit()
    return made


def add(
    runner: FlaskCliRunner, registration: int, url: str, *extra: str, token: str = TOKEN
) -> Any:
    """``lms add-connection``, the token piped in on standard input."""
    return runner.invoke(args=[
        "lms", "add-connection", "--registration", str(registration), "--kind", "moodle",
        "--url", url, "--name", "ACME Moodle", *extra,
    ], input=f"{token}\n")  # fmt: skip


def completion_syncs(db: SQLAlchemy) -> dict[int, SyncStatus]:
    rows = db.session.scalars(select(CourseSync).where(CourseSync.kind == SyncKind.COMPLETIONS))
    return {row.course_id: row.status for row in rows}


def test_an_administrator_adds_lists_and_removes_a_connection(
    runner: FlaskCliRunner, registration: PlatformRegistration, db: SQLAlchemy,
    fake_moodle: FakeMoodle,
) -> None:  # fmt: skip
    added = add(runner, registration.id, f"{fake_moodle.url}/webservice/rest/server.php",
                "--token-stdin")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"{fake_moodle.url}; the completions of its courses are being read" in added.output
    connection = db.session.scalars(select(LmsConnection)).one()
    assert (connection.kind, connection.base_url) == (LmsKind.MOODLE, fake_moodle.url)
    assert TOKEN.encode() not in connection.token_encrypted
    assert list(completion_syncs(db).values()) == [SyncStatus.QUEUED]
    listed = runner.invoke(args=["lms", "list-connections"])
    assert (
        f"#{connection.id}  registration #{registration.id}  moodle  ACME Moodle" in listed.output
    )
    assert "1 course(s), 0 failing" in listed.output
    removed = runner.invoke(args=["lms", "remove-connection", str(connection.id)])
    assert "its events stay" in removed.output
    assert TOKEN not in added.output + listed.output + removed.output
    db.session.expire_all()
    assert connection.token_encrypted == b""
    assert connection.removed_at is not None
    assert completion_syncs(db) == {}  # its courses are read no more
    again = runner.invoke(args=["lms", "remove-connection", str(connection.id)])
    assert again.exit_code != 0
    assert f"no LMS connection #{connection.id}" in again.output


def test_the_token_is_asked_for_unseen_when_not_piped(
    runner: FlaskCliRunner, registration: PlatformRegistration, db: SQLAlchemy
) -> None:
    added = add(runner, registration.id, "https://moodle.example.org")
    assert added.exit_code == 0, added.output
    assert "Token:" in added.output
    assert TOKEN not in added.output


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://moodle.example.org", "must use https://"),
        ("ftp://moodle.example.org", "not a web address"),
        ("https://admin:secret@moodle.example.org", "Give the token as an option"),
        ("https://moodle.example.org/?lang=en", "no query or fragment"),
    ],
)
def test_an_unsafe_or_wrong_address_is_refused(
    runner: FlaskCliRunner, registration: PlatformRegistration, db: SQLAlchemy, url: str,
    error: str,
) -> None:  # fmt: skip
    refused = add(runner, registration.id, url, "--token-stdin")
    assert refused.exit_code != 0
    assert error in refused.output
    assert db.session.scalars(select(LmsConnection)).all() == []


def test_plain_http_on_this_machine_is_refused_in_production(
    registration: PlatformRegistration, db: SQLAlchemy
) -> None:
    new = connections.NewConnection(registration.id, LmsKind.MOODLE, "http://127.0.0.1:9", TOKEN)
    with pytest.raises(connections.LmsConnectionError, match="must use https://"):
        connections.add(db.session(), new, production=True)
    assert connections.add(db.session(), new, production=False).base_url == "http://127.0.0.1:9"


def test_one_connection_at_a_time_per_registration_and_a_token_is_needed(
    runner: FlaskCliRunner, registration: PlatformRegistration, db: SQLAlchemy
) -> None:
    assert (
        add(runner, registration.id, "https://moodle.example.org", "--token-stdin").exit_code == 0
    )
    second = add(runner, registration.id, "https://moodle.example.org", "--token-stdin")
    assert second.exit_code != 0
    assert "remove that one first" in second.output
    empty = add(runner, 999999, "https://moodle.example.org", "--token-stdin")
    assert "no platform registration #999999" in empty.output
    blank = RegistrationFactory()
    db.session.commit()
    spaced = add(runner, blank.id, "https://moodle.example.org", "--token-stdin", token="a b")
    assert spaced.exit_code != 0
    assert "has spaces in it" in spaced.output


def test_the_sweep_queues_new_courses_of_connected_platforms_only(
    app: Flask, registration: PlatformRegistration, db: SQLAlchemy
) -> None:
    new = connections.NewConnection(registration.id, LmsKind.MOODLE, "https://moodle.example.org",
                                    TOKEN)  # fmt: skip
    connections.add(db.session(), new, production=False)
    launched_since = CourseFactory(deployment=DeploymentFactory(registration=registration))
    elsewhere = CourseFactory()  # another platform, without a connection
    db.session.commit()
    with app.app_context():
        queued = sync_due.run()
    assert ("completions", launched_since.id) in queued
    assert elsewhere.id not in completion_syncs(db)
    assert launched_since.id in completion_syncs(db)
