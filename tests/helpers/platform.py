"""A test LTI platform: its own RSA keys, a real JWKS endpoint on 127.0.0.1, forged tokens.

Tests log in and launch through the real /lti/login and /lti/launch with it, changing any
claim or header to play the 1EdTech "known bad payloads" and worse.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse

from lti_tool.lti.keys import new_rsa_key
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TOOL = "http://localhost"  # the Flask test client's host


@dataclass
class PlatformKey:
    """One signing key of the test platform."""

    pem: bytes
    jwk: dict[str, Any]


@dataclass
class PlatformDouble:
    """An LMS as the tool sees it: a registration, a deployment, keys, a JWKS URL."""

    issuer: str
    client_id: str
    deployment_id: str
    keys: list[PlatformKey] = field(default_factory=list)
    jwks_requests: int = 0
    server: BaseWSGIServer | None = None

    @property
    def jwks_url(self) -> str:
        """Where the platform serves its keys."""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/jwks"

    def rotate(self) -> PlatformKey:
        """Make a new signing key and publish it alongside the old ones."""
        pem, jwk = new_rsa_key()
        self.keys.append(PlatformKey(pem, jwk))
        return self.keys[-1]

    def register(
        self,
        session: Session,
        *,
        status: RegistrationStatus = RegistrationStatus.ACTIVE,
        deployment: RegistrationStatus | None = RegistrationStatus.ACTIVE,
        auto_activate: bool = False,
    ) -> PlatformRegistration:
        """Register with the tool, as an administrator would."""
        registration = PlatformRegistration(
            issuer=self.issuer,
            client_id=self.client_id,
            name="Test LMS",
            auth_login_url=f"{self.issuer}/auth",
            auth_token_url=f"{self.issuer}/token",
            key_set_url=self.jwks_url,
            status=status,
            auto_activate_deployments=auto_activate,
        )
        session.add(registration)
        if deployment is not None:
            session.add(
                Deployment(
                    registration=registration, deployment_id=self.deployment_id, status=deployment
                )
            )
        session.commit()
        return registration

    def claims(self, nonce: str, **changes: Any) -> dict[str, Any]:
        """A valid LtiResourceLinkRequest for a learner; ``changes`` replace claims (None drops)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "learner-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Ada Lindqvist",
            "given_name": "Ada",
            "family_name": "Lindqvist",
            "email": "ada@example.edu",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": f"{TOOL}/lti/launch",
            CLAIM + "resource_link": {"id": "link-1", "title": "Mentor"},
            CLAIM + "context": {
                "id": "course-1",
                "label": "CSE-101",
                "title": "Customer Service Essentials",
            },
            CLAIM + "roles": [LEARNER],
        }
        for name, value in changes.items():
            key = name if name in body or not name.startswith("lti_") else CLAIM + name[4:]
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def sign(
        self,
        body: dict[str, Any],
        key: PlatformKey | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """An id_token signed with ``key`` (the newest by default)."""
        key = key or self.keys[-1]
        return jwt.encode(
            body, key.pem, algorithm="RS256", headers={"kid": key.jwk["kid"], **(headers or {})}
        )


def serve_jwks(platform: PlatformDouble) -> Iterator[PlatformDouble]:
    """Serve the platform's JWKS on 127.0.0.1 while the test runs, counting requests."""
    app = Flask("test-platform")

    @app.get("/jwks")
    def jwks() -> tuple[str, int, dict[str, str]]:
        platform.jwks_requests += 1
        keys = [key.jwk for key in platform.keys]
        return json.dumps({"keys": keys}), 200, {"Content-Type": "application/json"}

    platform.server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=platform.server.serve_forever, daemon=True).start()
    try:
        yield platform
    finally:
        platform.server.shutdown()


@dataclass
class LoginResult:
    """What /lti/login answered."""

    response: TestResponse
    state: str
    nonce: str


def login(client: FlaskClient, platform: PlatformDouble, **extra: str) -> LoginResult:
    """Start a login as the platform would; returns the state and nonce the tool issued."""
    params = {
        "iss": platform.issuer,
        "login_hint": "learner-1",
        "client_id": platform.client_id,
        "target_link_uri": f"{TOOL}/lti/launch",
        "lti_deployment_id": platform.deployment_id,
        **extra,
    }
    response = client.post("/lti/login", data=params)
    if response.status_code != 302:
        return LoginResult(response, "", "")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return LoginResult(response, query["state"][0], query["nonce"][0])


def launch(client: FlaskClient, platform: PlatformDouble, **changes: Any) -> TestResponse:
    """Log in and launch with a token whose claims carry ``changes``."""
    started = login(client, platform)
    token = platform.sign(platform.claims(started.nonce, **changes))
    return client.post("/lti/launch", data={"id_token": token, "state": started.state})
