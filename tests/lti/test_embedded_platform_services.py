"""The embedded platform's LTI Advantage services, called the way the tool will call them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.devplatform.advantage import LINEITEM, NRPS_SCOPE, RESULT_READ, SCORE
from lti_tool.devplatform.directory import CLIENT_ID, DEPLOYMENT_ID
from lti_tool.devplatform.services import _deep_link_data
from lti_tool.lti.keys import current_key, private_pem

PLATFORM = "http://localhost/dev-platform"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


@pytest.fixture
def client(make_app: Callable[..., Flask], db: SQLAlchemy) -> FlaskClient:
    return make_app(LTI_EMBEDDED_PLATFORM=True).test_client()


def _signed_by_tool(db: SQLAlchemy, claims: dict[str, Any], kid: str | None = None) -> str:
    key = current_key(db.session())
    return jwt.encode(claims, private_pem(key), algorithm="RS256", headers={"kid": kid or key.kid})


def _assertion(db: SQLAlchemy, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{PLATFORM}/token",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        **changes,
    }
    return _signed_by_tool(db, claims)


def _token(client: FlaskClient, db: SQLAlchemy, scope: str, **changes: Any) -> Any:
    return client.post(
        "/dev-platform/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion": _assertion(db, **changes),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        },
    )


def _bearer(client: FlaskClient, db: SQLAlchemy, *scopes: str) -> dict[str, str]:
    response = _token(client, db, " ".join(scopes))
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_the_token_endpoint_verifies_the_tools_assertion(
    client: FlaskClient, db: SQLAlchemy
) -> None:
    response = _token(client, db, NRPS_SCOPE)
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"
    assert response.json["scope"] == NRPS_SCOPE


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"aud": "https://elsewhere/token"}, "invalid_client"),
        ({"iss": "another-client", "sub": "another-client"}, "invalid_client"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, "invalid_client"),
    ],
)
def test_bad_assertions_get_no_token(
    client: FlaskClient, db: SQLAlchemy, changes: dict[str, Any], error: str
) -> None:
    response = _token(client, db, NRPS_SCOPE, **changes)
    assert response.status_code == 400
    assert response.json["error"] == error


def test_an_assertion_is_good_once(client: FlaskClient, db: SQLAlchemy) -> None:
    form = {
        "grant_type": "client_credentials",
        "scope": NRPS_SCOPE,
        "client_assertion": _assertion(db),
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    assert client.post("/dev-platform/token", data=form).status_code == 200
    again = client.post("/dev-platform/token", data=form)
    assert again.json["error_description"] == "The assertion's jti was already used."


def test_unknown_scopes_are_refused(client: FlaskClient, db: SQLAlchemy) -> None:
    assert _token(client, db, "https://example.com/admin").json["error"] == "invalid_scope"


def test_names_and_roles_pages_with_link_next(client: FlaskClient, db: SQLAlchemy) -> None:
    headers = _bearer(client, db, NRPS_SCOPE)
    first = client.get("/dev-platform/nrps/demo-course-1?limit=2", headers=headers)
    assert first.status_code == 200
    assert first.mimetype == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    assert [m["user_id"] for m in first.json["members"]] == ["demo-mentor", "demo-learner-1"]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    second = client.get(link[1 : link.index(">")], headers=headers)
    assert [m["user_id"] for m in second.json["members"]] == ["demo-learner-2"]
    assert "Link" not in second.headers


def test_services_need_the_right_scope(client: FlaskClient, db: SQLAlchemy) -> None:
    assert client.get("/dev-platform/nrps/demo-course-1").status_code == 401
    headers = _bearer(client, db, SCORE)
    response = client.get("/dev-platform/nrps/demo-course-1", headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"


def test_grades_line_items_scores_and_results(client: FlaskClient, db: SQLAlchemy) -> None:
    headers = _bearer(client, db, LINEITEM, SCORE, RESULT_READ)
    base = "/dev-platform/ags/demo-course-1/lineitems"
    for number in range(3):
        created = client.post(
            base,
            headers=headers,
            json={
                "label": f"Check-in {number}",
                "scoreMaximum": 10,
                "resourceId": f"topic-{number}",
            },
        )
        assert created.status_code == 201
    listed = client.get(f"{base}?limit=2", headers=headers)
    assert [i["label"] for i in listed.json] == ["Check-in 0", "Check-in 1"]
    assert 'rel="next"' in listed.headers["Link"]
    item_url = listed.json[0]["id"].removeprefix("http://localhost")
    for given in (4, 9):
        assert (
            client.post(
                f"{item_url}/scores",
                headers=headers,
                json={
                    "userId": "demo-learner-1",
                    "scoreGiven": given,
                    "scoreMaximum": 10,
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                },
            ).status_code
            == 204
        )
    results = client.get(f"{item_url}/results", headers=headers).json
    assert [(r["userId"], r["resultScore"]) for r in results] == [("demo-learner-1", 9)]


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"scoreMaximum": 10}, "label is required."),
        ({"label": "x", "scoreMaximum": 0}, "scoreMaximum must be a number above 0."),
    ],
)
def test_bad_line_items_are_refused(
    client: FlaskClient, db: SQLAlchemy, body: dict[str, Any], description: str
) -> None:
    headers = _bearer(client, db, LINEITEM)
    response = client.post("/dev-platform/ags/demo-course-1/lineitems", headers=headers, json=body)
    assert response.status_code == 400
    assert response.json["error_description"] == description


def _deep_link_response(db: SQLAlchemy, app_secret: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "aud": PLATFORM,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": DEPLOYMENT_ID,
        DL + "data": _deep_link_data("demo-course-1", app_secret),
        DL + "content_items": [{"type": "ltiResourceLink", "title": "Mentor check-in: safety"}],
        **changes,
    }
    return _signed_by_tool(db, claims)


def test_deep_linking_response_is_verified_and_kept(client: FlaskClient, db: SQLAlchemy) -> None:
    secret = client.application.config["SECRET_KEY"]
    page = client.post(
        "/dev-platform/deep-link-return", data={"JWT": _deep_link_response(db, secret)}
    )
    assert page.status_code == 200
    assert "Mentor check-in: safety" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({DL + "data": "tampered"}, "not echoed back intact"),
        ({"aud": "https://other-platform"}, "Audience doesn't match"),
        ({LTI + "message_type": "LtiResourceLinkRequest"}, "not an LtiDeepLinkingResponse"),
    ],
)
def test_bad_deep_linking_responses_are_refused(
    client: FlaskClient, db: SQLAlchemy, changes: dict[str, Any], description: str
) -> None:
    secret = client.application.config["SECRET_KEY"]
    response = client.post(
        "/dev-platform/deep-link-return", data={"JWT": _deep_link_response(db, secret, **changes)}
    )
    assert response.status_code == 400
    assert description in response.json["error_description"]


def test_launch_advertises_the_services(client: FlaskClient, db: SQLAlchemy) -> None:
    from lti_tool.devplatform.services import id_token

    token = id_token(
        db.session(),
        "http://localhost",
        "http://localhost",
        "demo-course-1",
        "demo-learner-1",
        nonce="n",
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]
    assert nrps["context_memberships_url"] == f"{PLATFORM}/nrps/demo-course-1"
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitems"] == f"{PLATFORM}/ags/demo-course-1/lineitems"
