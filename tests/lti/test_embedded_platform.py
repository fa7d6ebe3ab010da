"""The embedded platform: real OIDC checks, self-registration, and never in production."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy


@pytest.fixture
def platform_client(make_app: Callable[..., Flask], db: SQLAlchemy) -> FlaskClient:
    return make_app(LTI_EMBEDDED_PLATFORM=True).test_client()


def _auth_params(client: FlaskClient) -> dict[str, str]:
    """Follow the course page's iframe to the tool's login; return what it sends to auth."""
    page = client.get(
        "/dev-platform/course",
        query_string={"course": "demo-course-1", "user": "demo-learner-1", "storage": "0"},
    )
    assert page.status_code == 200
    src = page.get_data(as_text=True).split('src="')[1].split('"')[0].replace("&amp;", "&")
    login = client.get(src)
    assert login.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}


def test_auth_posts_a_signed_id_token_back(platform_client: FlaskClient) -> None:
    params = _auth_params(platform_client)
    page = platform_client.get("/dev-platform/auth", query_string=params)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="http://localhost/lti/launch"' in html
    assert 'name="id_token"' in html


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"redirect_uri": "https://evil.example/steal"}, "redirect_uri is not one registered"),
        ({"client_id": "someone-else"}, "client_id must be"),
        ({"response_type": "code"}, "response_type must be"),
        ({"nonce": ""}, "nonce and state are required"),
        ({"lti_message_hint": "forged"}, "lti_message_hint was not issued by this platform"),
        ({"login_hint": "demo-learner-2"}, "login_hint does not match"),
    ],
)
def test_auth_refuses_bad_requests(
    platform_client: FlaskClient, change: dict[str, str], sentence: str
) -> None:
    params = {**_auth_params(platform_client), **change}
    page = platform_client.get("/dev-platform/auth", query_string=params)
    assert page.status_code == 400
    assert sentence in page.get_data(as_text=True)


def test_course_page_refuses_strangers(platform_client: FlaskClient) -> None:
    page = platform_client.get(
        "/dev-platform/course", query_string={"course": "demo-course-2", "user": "demo-learner-1"}
    )
    assert page.status_code == 400
    assert "not a member of demo-course-2" in page.get_data(as_text=True)


def test_platform_publishes_its_keys(platform_client: FlaskClient) -> None:
    keys = platform_client.get("/dev-platform/jwks").json["keys"]
    assert len(keys) == 1
    assert "d" not in keys[0]
    assert keys[0]["kid"]


def test_the_embedded_platform_does_not_exist_in_production(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        ENV="production",
        XAPI_TOOL_URL="https://mentor.example.org",
        SECRETS_KEY="1KJD8NJcx9T3Qm0fUpLHRWD8d0I6kVc5Xc2c4tq9y4U=",
        DATABASE_URL="postgresql://vm@127.0.0.1:1/vm",
        BROKER_URL="redis://127.0.0.1:1/0",
        LTI_EMBEDDED_PLATFORM=False,
        DEMO_CLOCK=False,
    )
    assert "devplatform" not in app.blueprints
    assert not any(rule.rule.startswith("/dev-platform") for rule in app.url_map.iter_rules())


def test_platform_key_rotation_publishes_before_and_after(
    platform_client: FlaskClient, db: SQLAlchemy
) -> None:
    """New id_tokens carry the new kid; the old key stays published for tokens in flight.

    (The tool's re-fetch on a new kid is tested with the platform double in test_keys_and_rotation.)
    """
    params = _auth_params(platform_client)
    app = platform_client.application
    first_kid = platform_client.get("/dev-platform/jwks").json["keys"][0]["kid"]
    result = app.test_cli_runner().invoke(args=["demo", "rotate-platform-key"])
    assert result.exit_code == 0, result.output
    keys = platform_client.get("/dev-platform/jwks").json["keys"]
    assert [k["kid"] for k in keys][1] == first_kid  # the old key is still published
    assert f"signs with {keys[0]['kid']}" in result.output
    form = platform_client.get("/dev-platform/auth", query_string=params).get_data(as_text=True)
    token = form.split('name="id_token" value="')[1].split('"')[0]
    assert keys[0]["kid"] != first_kid
    assert jwt.get_unverified_header(token)["kid"] == keys[0]["kid"]
