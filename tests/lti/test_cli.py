"""``flask --app wsgi lti …`` as an administrator uses it."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.lti.models import PlatformRegistration, RegistrationStatus

ADD = [
    "lti",
    "add-platform",
    "--issuer",
    "https://canvas.instructure.com",
    "--client-id",
    "10000000000042",
    "--name",
    "ACME Canvas",
    "--auth-login-url",
    "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "--auth-token-url",
    "https://sso.canvaslms.com/login/oauth2/token",
    "--key-set-url",
    "https://sso.canvaslms.com/api/lti/security/jwks",
    "--deployment",
    "7:abc",
]


def test_add_list_and_activate(runner: FlaskCliRunner, db: SQLAlchemy) -> None:
    added = runner.invoke(args=ADD)
    assert added.exit_code == 0, added.output
    assert "Registered ACME Canvas" in added.output
    registration = db.session.scalars(select(PlatformRegistration)).one()
    assert registration.status is RegistrationStatus.ACTIVE
    listed = runner.invoke(args=["lti", "list"]).output
    assert "ACME Canvas [active] https://canvas.instructure.com client 10000000000042" in listed
    assert "deployment 7:abc [active]" in listed
    registration.status = RegistrationStatus.PENDING
    db.session.commit()
    assert (
        "Activated ACME Canvas"
        in runner.invoke(args=["lti", "activate", str(registration.id)]).output
    )
    assert registration.status is RegistrationStatus.ACTIVE


def test_the_same_client_twice_is_refused(runner: FlaskCliRunner, db: SQLAlchemy) -> None:
    runner.invoke(args=ADD)
    again = runner.invoke(args=ADD)
    assert again.exit_code != 0
    assert "already registered" in again.output


def test_a_second_canvas_client_on_the_same_issuer_is_fine(
    runner: FlaskCliRunner, db: SQLAlchemy
) -> None:
    runner.invoke(args=ADD)
    other = [*ADD]
    other[other.index("10000000000042")] = "10000000000043"
    assert runner.invoke(args=other).exit_code == 0


def test_bad_urls_and_unknown_ids_are_named(runner: FlaskCliRunner, db: SQLAlchemy) -> None:
    bad = [*ADD]
    bad[bad.index("https://sso.canvaslms.com/api/lti/security/jwks")] = "ftp://x/jwks"
    result = runner.invoke(args=bad)
    assert result.exit_code != 0
    assert "'ftp://x/jwks' is not an http(s) URL" in result.output
    missing = runner.invoke(args=["lti", "activate", "999"])
    assert "No registration #999" in missing.output
    assert "No platform is registered yet" in runner.invoke(args=["lti", "list"]).output
