"""The headers of every response, and the Content-Security-Policy of every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from werkzeug.test import TestResponse

from lti_tool import security
from lti_tool.courses.models import Role
from lti_tool.lti import tokens
from tests.factories import (
    CourseFactory,
    DeploymentFactory,
    EnrollmentFactory,
    PersonFactory,
    RegistrationFactory,
)
from tests.helpers.platform import LEARNER, PlatformDouble, launch, login, serve_jwks
from tests.lti.test_deep_linking import RETURN_URL, open_picker

MOODLE = "https://moodle.example.org"
LEARNER_PAGES = ["/panel/", "/panel/preferences", "/panel/agreement"]
STAFF_PAGES = ["/console/", "/console/roster", "/console/plans", "/console/plans/new",
               "/console/inbox", "/console/snippets", "/console/sessions", "/console/sessions/new",
               "/console/results"]  # fmt: skip


def policy(response: TestResponse) -> dict[str, list[str]]:
    """The response's policy, directive by directive."""
    header = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def nonce_of(response: TestResponse) -> str:
    """The nonce the policy allows scripts with."""
    [nonce] = [value[7:-1] for value in policy(response)["script-src"]
               if value.startswith("'nonce-")]  # fmt: skip
    return nonce


def script_nonces(response: TestResponse) -> list[str | None]:
    """The nonce attribute of each <script> tag of the page (None: none)."""
    tags = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
    return [found[1] if (found := re.search(r'nonce="([^"]+)"', tag)) else None for tag in tags]


def assert_strict_page(response: TestResponse) -> str:
    """An HTML page whose policy allows its own scripts only, by this response's nonce."""
    assert response.mimetype == "text/html"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    found = policy(response)
    nonce = nonce_of(response)
    assert len(nonce) >= 22
    assert set(script_nonces(response)) <= {nonce}
    # Not even this site's own files run without the nonce (a script tag injected into a
    # page, pointing at /static/…, would).
    assert found["script-src"] == [f"'nonce-{nonce}'"]
    assert found["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert found["default-src"] == ["'self'"]
    assert found["base-uri"] == ["'none'"]
    assert found["object-src"] == ["'none'"]
    assert found["img-src"] == ["'self'", "https:", "data:"]
    return nonce


@pytest.fixture(autouse=True)
def fresh_platform_list(app: Flask) -> Iterator[None]:
    """Each test reads the registered platforms anew (they are kept a minute otherwise)."""
    security.forget_registered_origins(app)
    yield
    security.forget_registered_origins(app)


@pytest.fixture
def tokens_for(db: SQLAlchemy, app: Flask) -> dict[Role, str]:
    """A Moodle course with a learner and an instructor: their launch tokens."""
    registration = RegistrationFactory(issuer=MOODLE, product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    issued = {}
    for role in (Role.LEARNER, Role.INSTRUCTOR):
        person = PersonFactory(registration=registration)
        EnrollmentFactory(course=course, person=person, role=role)
        context = tokens.LaunchContext(registration.id, course.deployment_id, course.id,
                                       person.id, role)  # fmt: skip
        issued[role] = tokens.issue(context, app.config["SECRET_KEY"])
    db.session.commit()
    return issued


@pytest.fixture
def registered(db: SQLAlchemy) -> Iterator[PlatformDouble]:
    """A registered platform with its key set served (for real launches)."""
    double = PlatformDouble(issuer="https://lms.example.edu", client_id="client-csp",
                            deployment_id="deployment-1")  # fmt: skip
    double.rotate()
    for served in serve_jwks(double):
        served.register(db.session())
        yield served


def test_every_page_has_a_strict_policy_with_its_own_nonce(
    client: FlaskClient, tokens_for: dict[Role, str]
) -> None:
    pages = [*(f"{path}?lt={tokens_for[Role.LEARNER]}" for path in LEARNER_PAGES),
             *(f"{path}?lt={tokens_for[Role.INSTRUCTOR]}" for path in STAFF_PAGES),
             "/", "/lti/setup", "/no-such-page"]  # fmt: skip
    for path in pages:
        first, second = client.get(path), client.get(path)
        assert first.status_code in (200, 404), path
        assert assert_strict_page(first) != assert_strict_page(second), path


def test_script_tags_carry_the_nonce(client: FlaskClient, tokens_for: dict[Role, str]) -> None:
    console = client.get(f"/console/?lt={tokens_for[Role.INSTRUCTOR]}")
    panel = client.get(f"/panel/?lt={tokens_for[Role.LEARNER]}")
    for page in (console, panel):
        nonces = script_nonces(page)
        assert nonces
        assert nonces == [nonce_of(page)] * len(nonces)


def test_json_csv_and_calendar_answers_need_no_policy(
    client: FlaskClient, tokens_for: dict[Role, str]
) -> None:
    staff = tokens_for[Role.INSTRUCTOR]
    for path in (f"/console/syncs.json?lt={staff}", f"/console/results.csv?lt={staff}",
                 "/healthz"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_registered_platforms_may_frame_the_tool_and_no_one_else(
    client: FlaskClient, tokens_for: dict[Role, str], db: SQLAlchemy
) -> None:
    RegistrationFactory(issuer="https://canvas.instructure.com", client_id="10000000000001")
    RegistrationFactory(issuer="https://gone.example.edu", status="disabled")
    db.session.commit()
    page = client.get(f"/panel/?lt={tokens_for[Role.LEARNER]}")
    ancestors = policy(page)["frame-ancestors"]
    assert MOODLE in ancestors  # the learner's platform
    assert "'self'" in ancestors  # the embedded platform
    assert "https://*.instructure.com" in ancestors  # Canvas courses live on school hosts
    assert "https://gone.example.edu" not in ancestors
    assert "*" not in ancestors
    assert "https:" not in ancestors


def test_more_framing_origins_come_from_the_settings(make_app: Any, db: SQLAlchemy) -> None:
    app = make_app(HTTP_CSP_FRAME_ANCESTORS=["https://canvas.example.edu"],
                   HTTP_CSP_REPORT_URI="https://reports.example.org/csp")  # fmt: skip
    response = app.test_client().get("/no-such-page")
    found = policy(response)
    assert "https://canvas.example.edu" in found["frame-ancestors"]
    assert found["report-uri"] == ["https://reports.example.org/csp"]


@pytest.mark.parametrize("bad", ["https://x.example.edu; script-src *", "'unsafe-inline'", "*"])
def test_a_framing_origin_that_is_not_one_is_refused(make_app: Any, bad: str) -> None:
    with pytest.raises(ValueError, match="VM_HTTP_CSP_FRAME_ANCESTORS"):
        make_app(HTTP_CSP_FRAME_ANCESTORS=[bad])


def test_video_players_of_the_allow_list_may_play_in_the_panel(
    client: FlaskClient, tokens_for: dict[Role, str]
) -> None:
    page = client.get(f"/panel/?lt={tokens_for[Role.LEARNER]}")
    assert policy(page)["frame-src"] == ["https://www.youtube-nocookie.com",
                                         "https://player.vimeo.com"]  # fmt: skip


def test_frame_sources_follow_the_embed_hosts() -> None:
    assert security.frame_sources(["youtu.be"]) == ["https://www.youtube-nocookie.com"]
    assert security.frame_sources(["vimeo.com"]) == ["https://player.vimeo.com"]
    assert security.frame_sources([".videos.example.org", "media.example.com:8443"]) == [
        "https://videos.example.org", "https://*.videos.example.org",
        "https://media.example.com:8443",
    ]  # fmt: skip
    assert security.frame_sources(["not a host", "evil.example;script-src"]) == []


def test_an_empty_allow_list_frames_nothing(make_app: Any, db: SQLAlchemy) -> None:
    app = make_app(MENTORING_EMBED_HOSTS=[])
    assert policy(app.test_client().get("/"))["frame-src"] == ["'none'"]


def test_the_login_storage_page_runs_its_script_and_forms_post_to_the_tool(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    started = login(client, registered, lti_storage_target="_parent")
    page = started.response
    assert page.status_code == 200
    assert "lti-storage.js" in page.get_data(as_text=True)
    assert assert_strict_page(page)
    assert policy(page)["form-action"] == ["'self'"]
    assert registered.issuer in policy(page)["frame-ancestors"]


def test_the_deep_linking_response_may_post_to_the_return_url_only(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered)
    assert_strict_page(picker.page)
    assert policy(picker.page)["form-action"] == ["'self'"]
    answer = picker.post(client, kind="panel")
    assert answer.status_code == 200
    assert_strict_page(answer)
    assert policy(answer)["form-action"] == ["'self'", RETURN_URL]


def test_a_launch_lands_on_a_page_framed_by_its_platform(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    landed = launch(client, registered, lti_roles=[LEARNER])
    assert landed.status_code == 303
    panel = client.get(landed.headers["Location"])
    assert_strict_page(panel)
    assert "https://lms.example.edu" in policy(panel)["frame-ancestors"]


def test_an_unknown_platform_sees_why_it_cannot_launch(client: FlaskClient, db: SQLAlchemy) -> None:
    refused = client.post("/lti/login", data={
        "iss": "https://new.example.edu", "login_hint": "1", "client_id": "x",
        "target_link_uri": "http://localhost/lti/launch",
    })  # fmt: skip
    assert refused.status_code >= 400
    assert "not registered" in refused.get_data(as_text=True)
    assert policy(refused)["frame-ancestors"] == ["*"]  # shown in the unknown LMS's frame
    assert_strict_page(refused)


def test_the_start_and_setup_pages_may_be_framed_by_any_lms(client: FlaskClient) -> None:
    for path in ("/", "/lti/setup"):
        assert policy(client.get(path))["frame-ancestors"] == ["*"], path


@pytest.mark.parametrize("bad", ["reports", "https://r.example.org/csp; script-src *"])
def test_a_report_address_that_is_not_one_is_refused(make_app: Any, bad: str) -> None:
    with pytest.raises(ValueError, match="VM_HTTP_CSP_REPORT_URI"):
        make_app(HTTP_CSP_REPORT_URI=bad)
