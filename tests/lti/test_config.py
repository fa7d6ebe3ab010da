"""The configuration an LMS administrator pastes: every URL points at this tool."""

from __future__ import annotations

from flask import Flask

from lti_tool.lti.config import SCOPES


def test_canvas_developer_key_json(app: Flask) -> None:
    response = app.test_client().get(
        "/lti/config/canvas.json", base_url="https://mentor.example.org"
    )
    assert response.status_code == 200
    config = response.json
    assert config["oidc_initiation_url"] == "https://mentor.example.org/lti/login"
    assert config["target_link_uri"] == "https://mentor.example.org/lti/launch"
    assert config["public_jwk_url"] == "https://mentor.example.org/lti/jwks"
    assert config["scopes"] == SCOPES
    canvas = config["extensions"][0]
    assert canvas["platform"] == "canvas.instructure.com"
    assert canvas["privacy_level"] == "public"
    assert canvas["domain"] == "mentor.example.org"
    placements = {p["placement"]: p["message_type"] for p in canvas["settings"]["placements"]}
    assert placements == {
        "course_navigation": "LtiResourceLinkRequest",
        "link_selection": "LtiDeepLinkingRequest",
        "assignment_selection": "LtiDeepLinkingRequest",
    }


def test_behind_a_tls_proxy_the_urls_are_https(make_app: object) -> None:
    app = make_app(HTTP_PROXY_HOPS=1)  # type: ignore[operator]
    response = app.test_client().get(
        "/lti/config/canvas.json",
        base_url="http://10.0.0.5:8000",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "mentor.example.org",
            "X-Forwarded-For": "203.0.113.7",
        },
    )
    assert response.json["oidc_initiation_url"] == "https://mentor.example.org/lti/login"
