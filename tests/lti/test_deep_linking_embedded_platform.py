"""Deep linking end to end with the embedded platform, which verifies what the tool returns."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.devplatform.models import DevDeepLink
from tests.helpers import embedded

platform_client = embedded.platform_client  # the fixture, for the tests here


def _form(page: TestResponse) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of a page's auto-posting form."""
    text = page.get_data(as_text=True)
    action = html.unescape(
        re.search(r'<form id="form-post" method="post" action="([^"]+)"', text)[1]
    )  # type: ignore[index]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text)
    return action, {name: html.unescape(value) for name, value in fields}


def _open_picker(client: FlaskClient, user: str) -> TestResponse:
    """Open the course page with deep linking and follow the iframe through login and launch."""
    page = client.get("/dev-platform/course", query_string={
        "course": "demo-course-1", "user": user, "storage": "0", "deep_link": "1"})  # fmt: skip
    src = html.unescape(page.get_data(as_text=True).split('src="')[1].split('"')[0])
    auth = client.get(client.get(src).headers["Location"])
    action, fields = _form(auth)
    assert urlsplit(action).path == "/lti/launch"
    landed = client.post("/lti/launch", data=fields)
    if landed.status_code != 303:
        return landed
    return client.get(landed.headers["Location"])


def _picker_fields(picker: TestResponse) -> dict[str, str]:
    text = picker.get_data(as_text=True)
    return dict(re.findall(r'<input type="hidden" name="(lt|dl)" value="([^"]*)"', text))


def test_the_instructor_adds_the_panel_and_the_platform_accepts_it(
    platform_client: FlaskClient, db: SQLAlchemy
) -> None:
    picker = _open_picker(platform_client, "demo-mentor")
    assert picker.status_code == 200
    text = picker.get_data(as_text=True)
    assert "Add Virtual Mentor to Customer Service Essentials" in text
    assert "Grade participation" in text  # the embedded platform offers its grade service
    answer = platform_client.post(
        "/lti/deep-link/", data={**_picker_fields(picker), "kind": ["panel", "checkin"],
                                 "checkin_topic": "Active listening", "checkin_graded": "1"},
    )  # fmt: skip
    assert answer.status_code == 200
    action, fields = _form(answer)
    assert action == "http://localhost/dev-platform/deep-link-return"
    # The platform checks the signature against the tool's JWKS, and its data echoed intact.
    returned = platform_client.post(urlsplit(action).path, data=fields)
    assert returned.status_code == 200, returned.get_data(as_text=True)
    assert "Added to the course" in returned.get_data(as_text=True)
    assert "Check-in: Active listening" in returned.get_data(as_text=True)
    links = db.session.scalars(select(DevDeepLink).order_by(DevDeepLink.id)).all()
    assert [(link.context_id, link.item["custom"]) for link in links] == [
        ("demo-course-1", {"vm_kind": "panel"}),
        ("demo-course-1", {"vm_kind": "checkin", "vm_topic": "Active listening"}),
    ]
    assert "lineItem" not in links[0].item
    assert links[1].item["lineItem"]["label"] == "Check-in: Active listening"


def test_a_learner_gets_a_clear_refusal(platform_client: FlaskClient) -> None:
    refused = _open_picker(platform_client, "demo-learner-1")
    assert refused.status_code == 403
    assert "Only the course&#39;s instructors can add Virtual Mentor" in refused.get_data(
        as_text=True
    )
