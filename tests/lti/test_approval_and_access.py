"""Who may launch, and what a launch token lets its holder see: nothing across tenants."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.lti import tokens
from lti_tool.lti.login import STATE_COOKIE_PREFIX
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus
from lti_tool.models import Enrollment, EnrollmentStatus, Role
from tests.factories import EnrollmentFactory
from tests.helpers.platform import INSTRUCTOR, PlatformDouble, launch, login


def test_an_unknown_deployment_waits_for_an_administrator(
    client: FlaskClient, platform: PlatformDouble, db: SQLAlchemy, runner: FlaskCliRunner
) -> None:
    registration = platform.register(db.session(), deployment=None)
    response = launch(client, platform)
    assert response.status_code == 403
    assert "waits for an administrator to approve it" in response.get_data(as_text=True)
    deployment = db.session.scalars(select(Deployment)).one()
    assert deployment.status is RegistrationStatus.PENDING
    result = runner.invoke(
        args=["lti", "activate", str(registration.id), "--deployment", platform.deployment_id]
    )
    assert result.exit_code == 0, result.output
    assert launch(client, platform).status_code == 303


def test_auto_activation_lets_new_deployments_in(
    client: FlaskClient, platform: PlatformDouble, db: SQLAlchemy
) -> None:
    platform.register(db.session(), deployment=None, auto_activate=True)
    assert launch(client, platform).status_code == 303
    assert db.session.scalars(select(Deployment.status)).one() is RegistrationStatus.ACTIVE


def test_a_pending_registration_cannot_log_in(
    client: FlaskClient, platform: PlatformDouble, db: SQLAlchemy
) -> None:
    platform.register(db.session(), status=RegistrationStatus.PENDING)
    started = login(client, platform)
    assert started.response.status_code == 403
    assert "waits for an administrator" in started.response.get_data(as_text=True)


def test_a_learner_token_does_not_open_the_console(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    landing = launch(client, registered).headers["Location"]
    token = landing.split("lt=")[1]
    response = client.get("/console/", query_string={"lt": token})
    assert response.status_code == 403
    assert "for mentors and instructors of the course" in response.get_data(as_text=True)


def test_pages_need_a_valid_token(client: FlaskClient, registered: PlatformDouble) -> None:
    landing = launch(client, registered).headers["Location"]
    assert client.get("/panel/").status_code == 401
    assert (
        client.get("/panel/", query_string={"lt": landing.split("lt=")[1] + "x"}).status_code == 401
    )
    token = landing.split("lt=")[1]
    assert client.get("/panel/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_an_expired_token_says_to_launch_again(app: Flask) -> None:
    context = tokens.LaunchContext(1, 1, 1, 1, Role.LEARNER)
    token = tokens.issue(context, "k" * 40)
    assert tokens.read(token, "k" * 40, max_age=60) == context
    with pytest.raises(tokens.LaunchForbidden, match="Your session has expired"):
        tokens.read(token, "k" * 40, max_age=-1)


def test_a_token_cannot_reach_another_tenants_course(
    app: Flask, client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    """Even a correctly signed token must name a person enrolled in that course, same platform."""
    launch(client, registered)
    mine = db.session.scalars(select(Enrollment)).one()
    theirs = EnrollmentFactory(instructor=True)  # another platform's course
    registration = db.session.scalars(
        select(PlatformRegistration).filter_by(issuer=registered.issuer)
    ).one()
    forged = tokens.LaunchContext(
        registration.id, mine.course.deployment_id, theirs.course_id, mine.person_id, Role.ADMIN
    )
    token = tokens.issue(forged, app.config["SECRET_KEY"])
    response = client.get("/console/", query_string={"lt": token})
    assert response.status_code == 401
    assert "no longer matches your course" in response.get_data(as_text=True)


def test_an_ended_enrollment_closes_access(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    landing = launch(client, registered, lti_roles=[INSTRUCTOR]).headers["Location"]
    enrollment = db.session.scalars(select(Enrollment)).one()
    enrollment.status = EnrollmentStatus.INACTIVE
    db.session.commit()
    response = client.get(landing)
    assert response.status_code == 401
    assert "access to this course has ended" in response.get_data(as_text=True)


def test_responses_do_not_leak_tokens_to_other_sites(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    page = client.get(launch(client, registered).headers["Location"])
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_state_cookie_is_scoped_and_http_only(
    app: Flask, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    """Plain http on a real host cannot use SameSite=None (needs Secure): Lax, first party."""
    response = app.test_client().post(
        "/lti/login",
        base_url="http://tool.example",
        data={
            "iss": registered.issuer,
            "login_hint": "x",
            "client_id": registered.client_id,
            "target_link_uri": "http://tool.example/lti/launch",
        },
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Path=/lti/" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize("base", ["https://tool.example", "http://localhost", "http://127.0.0.1"])
def test_https_and_loopback_state_cookie_works_in_a_third_party_iframe(
    app: Flask, registered: PlatformDouble, db: SQLAlchemy, base: str
) -> None:
    client = app.test_client()
    response = client.post(
        "/lti/login",
        base_url=base,
        data={
            "iss": registered.issuer,
            "login_hint": "x",
            "client_id": registered.client_id,
            "target_link_uri": f"{base}/lti/launch",
        },
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly"):
        assert attribute in cookie


def test_storage_target_login_keeps_state_in_the_platform(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    response = client.post(
        "/lti/login",
        data={
            "iss": registered.issuer,
            "login_hint": "x",
            "client_id": registered.client_id,
            "target_link_uri": "http://localhost/lti/launch",
            "lti_storage_target": "_parent",
        },
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert 'data-action="put"' in html
    assert f'data-platform-origin="{registered.issuer}"' in html


def test_the_state_cookie_is_removed_once_the_launch_used_it(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    """Each login sets a cookie of its own; a browser must not collect one per launch."""
    started = login(client, registered)
    name = STATE_COOKIE_PREFIX + started.state[:24]
    assert client.get_cookie(name, path="/lti/") is not None
    token = registered.sign(registered.claims(started.nonce))
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    assert response.status_code == 303
    removed = response.headers["Set-Cookie"]
    assert removed.startswith(STATE_COOKIE_PREFIX)
    assert "Max-Age=0" in removed
    assert "Partitioned" in removed  # the partitioned cookie is the one to remove
    assert client.get_cookie(name, path="/lti/") is None
