"""LRS sources as the tool's administrator manages them with ``flask --app wsgi xapi …``:
checked before they are kept, the password never shown back, removal keeping statements."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.courses.syncs import SyncStatus
from tests.factories import RegistrationFactory
from tests.xapi.fake_lrs import PASSWORD, USERNAME, FakeLrs, lrs_statement
from xapi import pull, sources
from xapi.models import LrsSource, Statement

VERB = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture
def registration(db: SQLAlchemy) -> int:
    made = RegistrationFactory()
    db.session.commit()
    return int(made.id)


def add_lrs(runner: FlaskCliRunner, registration: int, endpoint: str, *extra: str) -> Any:
    """``xapi add-lrs``, typing the password at the hidden prompt."""
    return runner.invoke(args=[
        "xapi", "add-lrs", "--registration", str(registration), "--name", "ACME LRS",
        "--endpoint", endpoint, "--username", USERNAME, *extra,
    ], input=f"{PASSWORD}\n")  # fmt: skip


def test_an_administrator_adds_lists_and_removes_an_lrs(
    runner: FlaskCliRunner, registration: int, db: SQLAlchemy, fake_lrs: FakeLrs
) -> None:
    added = add_lrs(runner, registration, f"{fake_lrs.url}/xapi/", "--verb", VERB,
                    "--xapi-version", "2.0.0")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"{fake_lrs.url}/xapi; its first poll is queued" in added.output
    source = db.session.scalars(select(LrsSource)).one()
    assert (source.status, source.xapi_version, source.filters) == (
        SyncStatus.QUEUED,
        "2.0.0",
        {"verb": VERB},
    )
    fake_lrs.statements = [lrs_statement(1, "2026-11-24T08:00:01.000Z")]
    pull.run(db.session(), source.id, pull.PullSettings.from_config(runner.app.config))
    listed = runner.invoke(args=["xapi", "list-lrs"])
    assert f"#{source.id}  registration #{registration}  ACME LRS" in listed.output
    assert f'user {USERNAME}, xAPI 2.0.0, verb="{VERB}"' in listed.output
    assert "done: 1 page(s), 1 statement(s) read, 1 new, 0 skipped" in listed.output
    assert PASSWORD not in listed.output + added.output
    removed = runner.invoke(args=["xapi", "remove-lrs", str(source.id)])
    assert "its statements stay" in removed.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 1
    assert "removed" in runner.invoke(args=["xapi", "list-lrs"]).output
    assert source.password_encrypted == b""
    assert (
        pull.run(db.session(), source.id, pull.PullSettings.from_config(runner.app.config)) is None
    )
    assert len(fake_lrs.requests) == 1  # a removed source is not polled
    again = runner.invoke(args=["xapi", "remove-lrs", str(source.id)])
    assert again.exit_code != 0
    assert f"There is no LRS source #{source.id}." in again.output


@pytest.mark.parametrize(
    ("endpoint", "extra", "words"),
    [
        ("http://lrs.example.org/xapi", [], "must use https://"),
        ("https://reader:pw@lrs.example.org/xapi", [], "not in the endpoint"),
        ("ftp://lrs.example.org/xapi", [], "not a web address"),
        ("https://lrs.example.org/xapi?x=1", [], "no query or fragment"),
        ("https://lrs.example.org/xapi", ["--verb", "completed"], "The verb filter:"),
        ("https://lrs.example.org/xapi", ["--agent", "{not json"], "agent must be an Agent"),
        ("https://lrs.example.org/xapi", ["--agent", '{"mbox": "mailto:a@b.org", "openid": '
                                                     '"https://b.org/a"}'], "The agent filter:"),
        ("https://lrs.example.org/xapi", ["--related-activities"], "give an activity too"),
        ("https://lrs.example.org/xapi", ["--activity", "not an iri"], "The activity filter:"),
    ],
)  # fmt: skip
def test_what_cannot_work_is_refused_in_words_and_not_kept(
    runner: FlaskCliRunner, registration: int, db: SQLAlchemy, endpoint: str, extra: list[str],
    words: str,
) -> None:  # fmt: skip
    result = add_lrs(runner, registration, endpoint, *extra)
    assert result.exit_code != 0
    assert words in result.output
    assert db.session.scalar(select(func.count()).select_from(LrsSource)) == 0


def test_an_unknown_registration_is_refused(runner: FlaskCliRunner, db: SQLAlchemy) -> None:
    result = add_lrs(runner, 999_999, "https://lrs.example.org/xapi")
    assert "There is no platform registration #999999." in result.output


def test_plain_http_is_for_this_machine_outside_production_only(registration: int) -> None:
    assert sources.check_endpoint("http://127.0.0.1:9/xapi/statements", production=False) == (
        "http://127.0.0.1:9/xapi"
    )
    with pytest.raises(sources.SourceError, match="must use https://"):
        sources.check_endpoint("http://127.0.0.1:9/xapi", production=True)


def test_a_source_added_over_http_fails_its_polls_once_in_production(
    runner: FlaskCliRunner, registration: int, db: SQLAlchemy, fake_lrs: FakeLrs
) -> None:
    assert add_lrs(runner, registration, f"{fake_lrs.url}/xapi").exit_code == 0
    source = db.session.scalars(select(LrsSource)).one()
    settings = pull.PullSettings.from_config({**runner.app.config, "ENV": "production"})
    pull.run(db.session(), source.id, settings)
    assert source.status == SyncStatus.FAILED
    assert "must use https://" in str(source.error)
    assert fake_lrs.requests == []
