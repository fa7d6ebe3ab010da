"""Dynamic registration end to end: the embedded platform opens /lti/register, an admin approves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import flask_migrate
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.courses.models import Course
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.extensions import db
from lti_tool.lti.models import PlatformRegistration, RegistrationStatus
from lti_tool.lti.storage import storage
from lti_tool.roster.services import run_sync
from tests.helpers.servers import serve


@pytest.fixture
def live(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The tool and the embedded platform on their own database, at a real 127.0.0.1 URL."""
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'dr.sqlite3'}", LTI_EMBEDDED_PLATFORM=True)
    with app.app_context():
        flask_migrate.upgrade()
    server, url = serve(app)
    yield app, url
    server.shutdown()


def _iframe_src(html: str) -> str:
    return (
        html.split("<iframe")[1].split('src="')[1].split('"', maxsplit=1)[0].replace("&amp;", "&")
    )


def _launch(client: FlaskClient, url: str, client_id: str) -> str:
    """Open the mentor tab as the instructor through the dynamically registered client.

    Returns where the launch landed, or the text of the page that refused it.
    """
    course = client.get(
        "/dev-platform/course", base_url=url,
        query_string={"course": "demo-course-1", "user": "demo-mentor", "storage": "0",
                      "client": client_id},
    )  # fmt: skip
    assert course.status_code == 200, course.get_data(as_text=True)
    login = client.get(_iframe_src(course.get_data(as_text=True)), base_url=url)
    if login.status_code != 302:
        return login.get_data(as_text=True)
    auth = urlsplit(login.headers["Location"])
    form = client.get(auth.path, query_string=auth.query, base_url=url).get_data(as_text=True)
    fields = {name: form.split(f'name="{name}" value="')[1].split('"')[0]
              for name in ("id_token", "state")}  # fmt: skip
    landed = client.post("/lti/launch", data=fields, base_url=url)
    assert landed.status_code == 303, landed.get_data(as_text=True)
    return str(landed.headers["Location"])


def test_register_approve_and_launch(live: tuple[Flask, str]) -> None:
    app, url = live
    client = app.test_client()
    install = client.get("/dev-platform/install", base_url=url).get_data(as_text=True)
    register_url = _iframe_src(install)
    assert register_url.startswith(f"{url}/lti/register?openid_configuration=")
    assert parse_qs(urlsplit(register_url).query)["registration_token"][0]

    page = client.get(register_url, base_url=url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    with app.app_context():
        registration = db.session.scalars(
            select(PlatformRegistration).filter(
                PlatformRegistration.client_id != "virtual-mentor-demo"
            )
        ).one()
        assert registration.status is RegistrationStatus.PENDING
        assert registration.issuer == f"{url}/dev-platform"
        assert registration.auth_login_url == f"{url}/dev-platform/auth"
        assert registration.key_set_url == f"{url}/dev-platform/jwks"
        assert registration.product_family == "virtual-mentor-embedded"
        [deployment] = registration.deployments
        assert deployment.deployment_id.startswith("dynamic-")
        assert deployment.status is RegistrationStatus.ACTIVE
        client_id, number = registration.client_id, registration.id
    assert f"flask --app wsgi lti activate {number}" in html
    assert "lti-close.js" in html

    refused = _launch(client, url, client_id)
    assert "Waiting for an administrator" in refused

    result = app.test_cli_runner().invoke(args=["lti", "activate", str(number)])
    assert result.exit_code == 0, result.output
    landed = _launch(client, url, client_id)
    assert urlsplit(landed).path == "/console/"
    console = client.get(landed, base_url=url)
    assert console.status_code == 200
    assert "Mentor console" in console.get_data(as_text=True)

    # The new client can call the platform's services too: its roster sync reads the course.
    with app.app_context():
        course_id = db.session.scalars(select(Course.id)).one()
        assert run_sync(db.session(), storage(), course_id, timeout=5)
        sync = db.session.scalars(select(CourseSync).filter_by(kind=SyncKind.ROSTER)).one()
        assert (sync.status, sync.error, sync.items) == (SyncStatus.DONE, None, 3)


def test_the_platform_refuses_a_registration_without_its_token(live: tuple[Flask, str]) -> None:
    _, url = live
    answer = requests.post(f"{url}/dev-platform/register", json={}, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"


def test_registering_twice_makes_two_clients(live: tuple[Flask, str]) -> None:
    """Each registration is a new client of the platform: both are kept, neither overwritten."""
    app, url = live
    client = app.test_client()
    for _ in range(2):
        install = client.get("/dev-platform/install", base_url=url).get_data(as_text=True)
        assert client.get(_iframe_src(install), base_url=url).status_code == 200
    with app.app_context():
        clients = db.session.scalars(
            select(PlatformRegistration.client_id).filter_by(
                product_family="virtual-mentor-embedded"
            )
        ).all()
    assert len(set(clients)) == 2
