"""Dynamic registration against a stub platform: what is sent, what is stored, every refusal."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.lti.config import AGS_SCOPES, NRPS_SCOPE, TOOL_CONFIGURATION
from lti_tool.lti.dynamic_registration import RegistrationSettings, check_url
from lti_tool.lti.errors import RegistrationRequestError
from lti_tool.lti.models import PlatformRegistration, RegistrationStatus
from tests.factories import RegistrationFactory
from tests.helpers.servers import serve

TOKEN = "reg-token-s3cr3t-value"
PLATFORM = "https://purl.imsglobal.org/spec/lti-platform-configuration"


@dataclass
class StubPlatform:
    """An LMS's configuration and registration endpoints, answering as a test tells them."""

    url: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    config_answer: tuple[int, str] | None = None
    register_answer: tuple[int, str] | None = None
    delay: float = 0.0
    seen: list[tuple[str, str, Any]] = field(default_factory=list)

    def configuration(self) -> dict[str, Any]:
        """A valid Moodle-like configuration for this stub's address."""
        return {
            "issuer": self.url, "authorization_endpoint": f"{self.url}/auth",
            "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/certs",
            "registration_endpoint": f"{self.url}/register",
            "scopes_supported": ["openid", *AGS_SCOPES, NRPS_SCOPE],
            PLATFORM: {"product_family_code": "moodle", "version": "4.5",
                       "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]},
        }  # fmt: skip

    @property
    def config_url(self) -> str:
        """What the platform passes as openid_configuration."""
        return f"{self.url}/.well-known/openid-configuration"

    def app(self) -> Flask:
        """The stub as a WSGI app."""
        stub = Flask("stub-platform")

        @stub.get("/.well-known/openid-configuration")
        def configuration() -> Response:
            self.seen.append(("config", request.headers.get("Authorization", ""), None))
            time.sleep(self.delay)
            status, body = self.config_answer or (200, json.dumps(self.config))
            return Response(body, status=status, mimetype="application/json")

        @stub.post("/register")
        def register() -> Response:
            body = request.get_json()
            self.seen.append(("register", request.headers.get("Authorization", ""), body))
            default = {**body, "client_id": "client-42", TOOL_CONFIGURATION: {
                **body[TOOL_CONFIGURATION], "deployment_id": "7"}}  # fmt: skip
            status, text = self.register_answer or (200, json.dumps(default))
            return Response(text, status=status, mimetype="application/json")

        return stub


@pytest.fixture
def stub() -> Iterator[StubPlatform]:
    platform = StubPlatform()
    server, platform.url = serve(platform.app())
    platform.config = platform.configuration()
    yield platform
    server.shutdown()


def _register(client: FlaskClient, stub: StubPlatform, **params: str) -> Any:
    query = {"openid_configuration": stub.config_url, "registration_token": TOKEN, **params}
    return client.get("/lti/register", query_string=query, base_url="https://mentor.example.org")


def _count(db: SQLAlchemy) -> int:
    return db.session.scalar(select(func.count()).select_from(PlatformRegistration)) or 0


def test_a_moodle_registers_pending_with_what_the_tool_needs(
    client: FlaskClient, db: SQLAlchemy, stub: StubPlatform
) -> None:
    page = _register(client, stub)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert [(kind, auth) for kind, auth, _ in stub.seen] == [
        ("config", f"Bearer {TOKEN}"), ("register", f"Bearer {TOKEN}")]  # fmt: skip
    body = stub.seen[1][2]
    assert body["initiate_login_uri"] == "https://mentor.example.org/lti/login"
    assert body["redirect_uris"] == ["https://mentor.example.org/lti/launch"]
    assert body["jwks_uri"] == "https://mentor.example.org/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["scope"].split() == [NRPS_SCOPE, *AGS_SCOPES]
    tool = body[TOOL_CONFIGURATION]
    assert tool["domain"] == "mentor.example.org"
    assert [m["type"] for m in tool["messages"]] == ["LtiResourceLinkRequest",
                                                     "LtiDeepLinkingRequest"]  # fmt: skip
    assert all("placements" not in m for m in tool["messages"])  # Moodle names none
    assert "https://canvas.instructure.com/lti/privacy_level" not in tool
    registration = db.session.scalars(select(PlatformRegistration)).one()
    assert (registration.issuer, registration.client_id) == (stub.url, "client-42")
    assert registration.status is RegistrationStatus.PENDING
    assert registration.auth_token_url == f"{stub.url}/token"
    assert registration.auth_audience is None
    assert [d.deployment_id for d in registration.deployments] == ["7"]
    assert f"flask --app wsgi lti activate {registration.id}" in html
    assert 'data-when="button"' in html  # the admin reads the approval step first


def test_canvas_gets_placements_privacy_and_its_token_audience(
    client: FlaskClient, db: SQLAlchemy, stub: StubPlatform
) -> None:
    stub.config["authorization_server"] = "https://canvas.example/login/oauth2/token"
    stub.config["scopes_supported"] = [NRPS_SCOPE, AGS_SCOPES[3]]
    stub.config[PLATFORM] = {
        "product_family_code": "canvas",
        "https://canvas.instructure.com/lti/account_name": "ACME University",
        "messages_supported": [
            {"type": "LtiResourceLinkRequest", "placements": ["course_navigation", "x"]},
            {"type": "LtiDeepLinkingRequest", "placements": ["link_selection"]},
        ],
    }
    assert _register(client, stub).status_code == 200
    body = stub.seen[1][2]
    assert body["scope"].split() == [NRPS_SCOPE, AGS_SCOPES[3]]
    tool = body[TOOL_CONFIGURATION]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert {m["type"]: m["placements"] for m in tool["messages"]} == {
        "LtiResourceLinkRequest": ["course_navigation"],
        "LtiDeepLinkingRequest": ["link_selection"],
    }
    registration = db.session.scalars(select(PlatformRegistration)).one()
    assert registration.auth_audience == "https://canvas.example/login/oauth2/token"
    assert registration.name.startswith("Canvas ACME University")


def test_auto_approval_makes_it_active_and_closes_the_page(
    make_app: Callable[..., Flask], db: SQLAlchemy, stub: StubPlatform
) -> None:
    client = make_app(LTI_AUTO_APPROVE_REGISTRATIONS=True).test_client()
    html = _register(client, stub).get_data(as_text=True)
    assert 'data-when="now"' in html
    assert "lti activate" not in html
    registration = db.session.scalars(select(PlatformRegistration)).one()
    assert registration.status is RegistrationStatus.ACTIVE


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/.well-known/openid-configuration"


def _without(name: str) -> Callable[[StubPlatform], None]:
    return lambda stub: stub.config.pop(name)


@pytest.mark.parametrize(
    ("setup", "status", "sentence"),
    [
        (lambda s: setattr(s, "config_answer", (401, '{"error": "invalid_token"}')), 502,
         "refused: HTTP 401 (the registration token was not accepted): invalid_token"),
        (lambda s: setattr(s, "config_answer", (403, "")), 502, "refused: HTTP 403 (not allowed)"),
        (lambda s: setattr(s, "config_answer", (404, "<html>")), 502, "HTTP 404 (not found)"),
        (lambda s: setattr(s, "config_answer", (500, "")), 502, "HTTP 500 (platform error)"),
        (lambda s: setattr(s, "config_answer", (200, "{not json")), 502,
         "did not answer with a JSON object"),
        (lambda s: setattr(s, "config_answer", (200, "[]")), 502,
         "did not answer with a JSON object"),
        (lambda s: s.config.update(issuer="https://evil.example"), 502,
         "names the issuer https://evil.example, which is not the site"),
        (_without("jwks_uri"), 502, "has no jwks_uri"),
        (_without("registration_endpoint"), 502, "has no registration_endpoint"),
        (_without(PLATFORM), 502, "does not say it is an LTI platform"),
        (lambda s: s.config[PLATFORM].pop("product_family_code"), 502,
         "has no product_family_code"),
        (lambda s: s.config.update(token_endpoint="http://lms.example.edu/token"), 400,
         "token_endpoint must use https://"),
        (lambda s: setattr(s, "register_answer", (400, json.dumps(
            {"error": "invalid_client_metadata", "error_description": "Unknown domain"}))), 502,
         "registration endpoint (http://127.0.0.1"),
        (lambda s: setattr(s, "register_answer", (400, json.dumps(
            {"error": "invalid_client_metadata", "error_description": "Unknown domain"}))), 502,
         "refused: HTTP 400 (refused): Unknown domain"),
        (lambda s: setattr(s, "register_answer", (503, "busy")), 502, "HTTP 503 (platform error)"),
        (lambda s: setattr(s, "register_answer", (201, '{"client_name": "Virtual Mentor"}')), 502,
         "gave no usable client_id"),
    ],
)  # fmt: skip
def test_platform_failures_are_explained_and_nothing_changes(
    client: FlaskClient,
    db: SQLAlchemy,
    stub: StubPlatform,
    setup: Callable[[StubPlatform], None],
    status: int,
    sentence: str,
) -> None:
    existing = RegistrationFactory(issuer=stub.url, client_id="client-1", name="Kept")
    setup(stub)
    page = _register(client, stub)
    assert page.status_code == status
    assert sentence in page.get_data(as_text=True)
    assert _count(db) == 1
    db.session.refresh(existing)
    assert (existing.name, existing.status) == ("Kept", RegistrationStatus.ACTIVE)


def test_an_unreachable_platform_is_explained(client: FlaskClient, db: SQLAlchemy) -> None:
    page = client.get("/lti/register", query_string={"openid_configuration": _closed_port_url()})
    assert page.status_code == 502
    assert "could not be reached (ConnectionError)" in page.get_data(as_text=True)
    assert _count(db) == 0


def test_a_slow_platform_times_out(
    make_app: Callable[..., Flask], db: SQLAlchemy, stub: StubPlatform
) -> None:
    stub.delay = 1.5
    client = make_app(LTI_HTTP_TIMEOUT_SECONDS=0.5).test_client()
    page = _register(client, stub)
    assert page.status_code == 504
    assert "did not answer within 0.5 s" in page.get_data(as_text=True)
    assert _count(db) == 0


def test_the_same_client_twice_is_refused_and_the_first_kept(
    client: FlaskClient, db: SQLAlchemy, stub: StubPlatform
) -> None:
    assert _register(client, stub).status_code == 200
    first = db.session.scalars(select(PlatformRegistration)).one()
    first.status = RegistrationStatus.ACTIVE
    db.session.commit()
    again = _register(client, stub)
    assert again.status_code == 409
    assert f"client client-42 is already registered (#{first.id}" in again.get_data(as_text=True)
    db.session.refresh(first)
    assert first.status is RegistrationStatus.ACTIVE
    assert _count(db) == 1


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ({}, "your LMS opens it with an openid_configuration parameter"),
        ({"openid_configuration": "lms.example.edu/config"}, "is not a web address"),
        ({"openid_configuration": "ftp://lms.example.edu/config"}, "is not a web address"),
        ({"openid_configuration": "http://lms.example.edu/config"}, "must use https://"),
    ],
)
def test_bad_requests_are_refused_before_any_call(
    client: FlaskClient, db: SQLAlchemy, query: dict[str, str], sentence: str
) -> None:
    page = client.get("/lti/register", query_string=query)
    assert page.status_code == 400
    assert sentence in page.get_data(as_text=True)
    assert _count(db) == 0


def test_production_refuses_plain_http_even_on_loopback() -> None:
    settings = RegistrationSettings("https://t.example", 5, False, allow_http_loopback=False)
    with pytest.raises(RegistrationRequestError, match="must use https://"):
        check_url("http://127.0.0.1:8000/config", "The openid_configuration parameter", settings)


def test_the_registration_token_is_never_logged(
    client: FlaskClient, db: SQLAlchemy, stub: StubPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert _register(client, stub).status_code == 200
    stub.register_answer = (401, '{"error": "invalid_token"}')
    assert _register(client, stub).status_code == 502
    assert "Registered platform" in caplog.text
    assert TOKEN not in caplog.text
