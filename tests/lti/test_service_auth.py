"""Service access tokens: one request per expiry, and every platform failure said in words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import jwt
import pytest
import requests
from flask import Flask, Response, request
from flask_sqlalchemy import SQLAlchemy

from lti_tool.devplatform.advantage import NRPS_SCOPE
from lti_tool.devplatform.services import register_with_tool
from lti_tool.extensions import db as tool_db
from lti_tool.lti.service_auth import ServiceAuthError, access_token
from lti_tool.lti.storage import storage
from tests.factories import RegistrationFactory
from tests.helpers.servers import serve


@pytest.fixture
def platform_app(
    make_app: Callable[..., Flask], tmp_path: Path
) -> Iterator[tuple[Flask, str, list[str]]]:
    """The tool and its embedded platform at a real URL, counting token requests."""
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'svc.sqlite3'}", LTI_EMBEDDED_PLATFORM=True)
    with app.app_context():
        flask_migrate.upgrade()
    seen: list[str] = []
    inner = app.wsgi_app

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = counting  # type: ignore[method-assign]
    server, url = serve(app)
    yield app, url, seen
    server.shutdown()


def test_one_token_request_per_expiry(platform_app: tuple[Flask, str, list[str]]) -> None:
    app, url, seen = platform_app
    with app.app_context():
        registration = register_with_tool(tool_db.session(), url)
        tokens = {
            access_token(tool_db.session(), storage(), registration, [NRPS_SCOPE], timeout=5)
            for _ in range(5)
        }
    assert len(tokens) == 1
    assert seen.count("/dev-platform/token") == 1
    members = requests.get(
        f"{url}/dev-platform/nrps/demo-course-1",
        timeout=5,
        headers={"Authorization": f"Bearer {tokens.pop()}"},
    )
    assert members.status_code == 200
    assert len(members.json()["members"]) == 3


class FakeTokenEndpoint:
    """A platform token endpoint that records what it got and answers as told."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.status, self.body = 200, '{"access_token": "t-1", "expires_in": 3600}'
        self.app = Flask("fake-token-endpoint")
        self.app.add_url_rule("/token", view_func=self.token, methods=["POST"])

    def token(self) -> Response:
        self.forms.append(request.form.to_dict())
        return Response(self.body, status=self.status, mimetype="application/json")


@pytest.fixture
def endpoint() -> Iterator[tuple[FakeTokenEndpoint, str]]:
    fake = FakeTokenEndpoint()
    server, url = serve(fake.app)
    yield fake, f"{url}/token"
    server.shutdown()


def test_canvas_audience_goes_in_the_assertion(
    db: SQLAlchemy, endpoint: tuple[FakeTokenEndpoint, str]
) -> None:
    fake, url = endpoint
    registration = RegistrationFactory(
        canvas=True,
        auth_token_url=url,
        auth_audience="https://canvas.instructure.com/login/oauth2/token",
    )
    assert access_token(db.session(), storage(), registration, [NRPS_SCOPE], timeout=5) == "t-1"
    claims = jwt.decode(fake.forms[0]["client_assertion"], options={"verify_signature": False})
    assert claims["aud"] == "https://canvas.instructure.com/login/oauth2/token"
    assert claims["iss"] == claims["sub"] == registration.client_id
    assert fake.forms[0]["scope"] == NRPS_SCOPE


@pytest.mark.parametrize(
    ("status", "body", "sentence"),
    [
        (
            401,
            '{"error": "invalid_client", "error_description": "unknown key"}',
            "refused the tool: HTTP 401 (credentials not accepted): unknown key",
        ),
        (403, '{"error": "unauthorized_client"}', "HTTP 403 (not allowed): unauthorized_client"),
        (429, "", "HTTP 429 (too many requests, try again later)"),
        (500, "<html>oops</html>", "HTTP 500 (platform error)"),
        (200, "not json", "answered without a usable access token"),
        (200, '{"token_type": "Bearer"}', "answered without a usable access token"),
    ],
)
def test_platform_failures_are_explained_and_nothing_is_cached(
    db: SQLAlchemy, endpoint: tuple[FakeTokenEndpoint, str], status: int, body: str, sentence: str
) -> None:
    fake, url = endpoint
    fake.status, fake.body = status, body
    registration = RegistrationFactory(name="ACME Moodle", auth_token_url=url)
    with pytest.raises(ServiceAuthError, match=re.escape(sentence)):
        access_token(db.session(), storage(), registration, [NRPS_SCOPE], timeout=5)
    fake.status, fake.body = 200, '{"access_token": "t-2", "expires_in": 3600}'
    assert access_token(db.session(), storage(), registration, [NRPS_SCOPE], timeout=5) == "t-2"


def test_an_unreachable_platform_is_explained(db: SQLAlchemy) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    registration = RegistrationFactory(
        name="ACME Moodle", auth_token_url=f"http://127.0.0.1:{port}/t"
    )
    with pytest.raises(
        ServiceAuthError, match=r"ACME Moodle's token endpoint .* could not be reached"
    ):
        access_token(db.session(), storage(), registration, [NRPS_SCOPE], timeout=2)
