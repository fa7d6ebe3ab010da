"""Roster fixtures: the tool with its embedded platform at a real URL, and a fake platform
that answers names-and-roles however a test tells it to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask, Response, request
from sqlalchemy import select

from lti_tool.courses.models import Course
from lti_tool.devplatform.services import register_with_tool
from lti_tool.extensions import close_connections, db
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.lti.storage import storage
from lti_tool.roster.services import run_sync
from tests.conftest import own_database
from tests.helpers.servers import serve

#: What a platform service may answer instead of data: (status, body, words the
#: instructor then reads); each test adds the malformed bodies of its own service.
REFUSALS = [
    (401, None, "did not accept the tool's access token"),
    (403, None, "does not allow the tool to read this"),
    (429, None, "asked the tool to slow down"),
    (500, None, "HTTP 500"),
    (200, "{not json", "not valid JSON"),
]


@dataclass
class Served:
    """The tool (and its embedded platform) served at ``url`` on a database of its own."""

    app: Flask
    url: str
    registration_id: int
    deployment_id: int

    def course(self, context_id: str, memberships_url: str | None) -> int:
        """A course of the registration's deployment; returns its id."""
        with self.app.app_context():
            course = Course(
                deployment_id=self.deployment_id, context_id=context_id, title=context_id,
                memberships_url=memberships_url,
            )  # fmt: skip
            db.session.add(course)
            db.session.commit()
            return course.id

    def sync(self, course_id: int) -> None:
        """Run the roster sync of the course as the worker would."""
        with self.app.app_context():
            run_sync(db.session(), storage(), course_id, timeout=5)

    def point_at(self, token_url: str) -> None:
        """Make the registration ask another platform for its tokens."""
        with self.app.app_context():
            registration = db.session.get(PlatformRegistration, self.registration_id)
            assert registration is not None
            registration.auth_token_url = token_url
            db.session.commit()


@pytest.fixture
def served(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Served]:
    """The tool and its embedded platform at a real URL, on a database nobody else uses."""
    with own_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url, LTI_EMBEDDED_PLATFORM=True, BROKER_URL="memory://")
        with app.app_context():
            flask_migrate.upgrade()
        server, base = serve(app)
        try:
            with app.app_context():
                registration = register_with_tool(db.session(), base)
                deployment_id = db.session.scalar(
                    select(Deployment.id).where(Deployment.registration_id == registration.id)
                )
                db.session.commit()
            assert deployment_id is not None
            yield Served(app, base, registration.id, deployment_id)
        finally:
            server.shutdown()
            with app.app_context():
                close_connections()


@dataclass
class FakePlatform:
    """A platform's token endpoint and names-and-roles pages, answering as a test says."""

    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    body: str | None = None  # replaces the JSON of every page when set
    requests: list[str] = field(default_factory=list)
    app: Flask = field(default_factory=lambda: Flask("fake-platform"))
    url: str = ""

    def __post_init__(self) -> None:
        self.app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        self.app.add_url_rule("/Courses/<course>/Members", view_func=self.members)

    def token(self) -> Response:
        body = {"access_token": "fake-token", "token_type": "Bearer", "expires_in": 3600}
        return Response(json.dumps(body), mimetype="application/json")

    def members(self, course: str) -> Response:
        self.requests.append(request.full_path)
        if request.headers.get("Authorization") != "Bearer fake-token":
            return Response("{}", status=401, mimetype="application/json")
        index = int(request.args.get("PageNo", "0"))
        body = self.body or json.dumps({"id": request.url, "members": self.pages[index]})
        response = Response(body, status=self.status, mimetype="application/json")
        if index + 1 < len(self.pages):
            # Mixed-case parameters, as some platforms write them: they must come back as is.
            response.headers["Link"] = (
                f'<{self.url}/Courses/{course}/Members?PageNo={index + 1}&Sort=ID>; rel="next", '
                f'<{self.url}/Courses/{course}/Members?PageNo=0>; rel="first"'
            )
        return response


@pytest.fixture
def fake_platform() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    server, fake.url = serve(fake.app)
    yield fake
    server.shutdown()


def member(user_id: str, role: str = "Learner", **changes: Any) -> dict[str, Any]:
    """A names-and-roles member as platforms send them."""
    body: dict[str, Any] = {
        "user_id": user_id,
        "status": "Active",
        "roles": [f"http://purl.imsglobal.org/vocab/lis/v2/membership#{role}"],
        "name": f"Person {user_id}",
        "given_name": "Person",
        "family_name": user_id,
        "email": f"{user_id}@example.edu",
    }
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body
