"""Deep linking: an instructor's LtiDeepLinkingRequest, the picker, the signed response."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.clock import FixedClock
from lti_tool.models import Enrollment, Role
from tests.helpers.platform import INSTRUCTOR, LEARNER, PlatformDouble, launch

pytestmark = pytest.mark.usefixtures("registered")

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
RETURN_URL = "https://lms.example.edu/deep-link-return"


def _settings(**changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "deep_link_return_url": RETURN_URL,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
        "data": "opaque-platform-data-42",
    }
    settings.update(changes)
    return {name: value for name, value in settings.items() if value is not None}


def deep_link_launch(
    client: FlaskClient, platform: PlatformDouble, settings: dict[str, Any] | None = None,
    **changes: Any,
) -> TestResponse:  # fmt: skip
    """An LtiDeepLinkingRequest from an instructor (``changes`` replace claims)."""
    claims = {
        "lti_message_type": "LtiDeepLinkingRequest", "lti_resource_link": None,
        "lti_roles": [INSTRUCTOR], DL + "deep_linking_settings": settings or _settings(),
        **changes,
    }  # fmt: skip
    return launch(client, platform, **claims)


@dataclass
class Picker:
    """The picker page an instructor landed on, and what its form must send back."""

    page: TestResponse
    token: str
    picker_id: str

    def post(self, client: FlaskClient, **form: Any) -> TestResponse:
        """Submit the picker with these fields (and the page's token and id)."""
        return client.post("/lti/deep-link/", data={"lt": self.token, "dl": self.picker_id, **form})


def open_picker(client: FlaskClient, platform: PlatformDouble, **kwargs: Any) -> Picker:
    """Launch for deep linking and follow the landing redirect to the picker."""
    landed = deep_link_launch(client, platform, **kwargs)
    assert landed.status_code == 303, landed.get_data(as_text=True)[:500]
    location = landed.headers["Location"]
    assert location.startswith("/lti/deep-link/?")
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert set(query) == {"lt", "dl"}  # the settings themselves stay on the server
    return Picker(client.get(location), query["lt"], query["dl"])


def signed_response(
    client: FlaskClient, platform: PlatformDouble, answer: TestResponse
) -> dict[str, Any]:
    """The JWT the response page posts to the platform, verified with the tool's JWKS."""
    assert answer.status_code == 200, answer.get_data(as_text=True)[:800]
    page = answer.get_data(as_text=True)
    assert f'action="{RETURN_URL}"' in page
    token = html.unescape(re.search(r'name="JWT" value="([^"]+)"', page)[1])  # type: ignore[index]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in client.get("/lti/jwks").json["keys"] if k["kid"] == kid)
    return dict(jwt.decode(token, jwt.PyJWK(key), algorithms=["RS256"],
                           audience=platform.issuer))  # fmt: skip


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_the_instructor_adds_the_mentor_panel(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    picker = open_picker(client, registered)
    assert picker.page.status_code == 200
    assert "Add Virtual Mentor to Customer Service Essentials" in _text(picker.page)
    assert 'type="checkbox" id="kind-panel"' in _text(picker.page)
    # The course, person and enrollment are recorded as for any launch.
    enrollment = db.session.scalars(select(Enrollment)).one()
    assert enrollment.role is Role.INSTRUCTOR

    claims = signed_response(client, registered, picker.post(client, kind="panel"))
    assert claims["iss"] == registered.client_id
    assert claims["aud"] == registered.issuer
    assert claims["nonce"]
    assert claims["exp"] > claims["iat"]
    assert claims[LTI + "deployment_id"] == registered.deployment_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[DL + "data"] == "opaque-platform-data-42"
    [item] = claims[DL + "content_items"]
    assert item == {
        "type": "ltiResourceLink",
        "title": "Mentor panel",
        "text": "Your mentor's messages, questions and tips for this course.",
        "url": "http://localhost/lti/launch",
        "custom": {"vm_kind": "panel"},
    }


def test_several_items_when_the_platform_accepts_several(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered)
    answer = picker.post(
        client, kind=["panel", "checkin", "survey"],
        checkin_topic="  Handling   complaints ", survey_title="How was week 1?",
    )  # fmt: skip
    items = signed_response(client, registered, answer)[DL + "content_items"]
    assert [(i["title"], i["custom"]) for i in items] == [
        ("Mentor panel", {"vm_kind": "panel"}),
        (
            "Check-in: Handling complaints",
            {"vm_kind": "checkin", "vm_topic": "Handling complaints"},
        ),
        ("How was week 1?", {"vm_kind": "survey", "vm_title": "How was week 1?"}),
    ]
    assert all("lineItem" not in item for item in items)


def test_one_item_only_when_the_platform_accepts_one(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered, settings=_settings(accept_multiple=False))
    assert 'type="radio" id="kind-panel"' in _text(picker.page)
    assert 'type="checkbox" id="kind-' not in _text(picker.page)
    refused = picker.post(client, kind=["panel", "survey"], survey_title="Week 1")
    assert refused.status_code == 400
    assert "accepts one item at a time here: pick just one" in _text(refused)
    # Nothing was used up: the corrected answer goes through.
    items = signed_response(
        client, registered, picker.post(client, kind="survey", survey_title="Week 1")
    )
    assert [i["custom"]["vm_kind"] for i in items[DL + "content_items"]] == ["survey"]


def test_a_platform_that_takes_no_resource_links_is_told_so(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered, settings=_settings(accept_types=["link", "file"]))
    page = _text(picker.page)
    assert picker.page.status_code == 200
    assert "does not accept links to tools in\nthis place (it accepts: link, file)" in page
    assert 'name="kind"' not in page
    refused = picker.post(client, kind="panel")
    assert refused.status_code == 400
    assert "Virtual Mentor\nhas nothing to add here" in _text(refused)
    assert "JWT" not in _text(refused)


@pytest.mark.parametrize(
    ("form", "sentence"),
    [
        ({}, "Pick something to add to your course."),
        ({"kind": "checkin", "checkin_topic": "   "}, "Please give the check-in&#39;s topic."),
        (
            {"kind": "survey", "survey_title": "x" * 121},
            "Please shorten the survey&#39;s title to 120 characters (it has 121).",
        ),
        ({"kind": "quiz"}, "Virtual Mentor cannot add “quiz”: pick from the list."),
    ],
)
def test_bad_picks_show_the_page_again_saying_what_is_wrong(
    client: FlaskClient, registered: PlatformDouble, form: dict[str, str], sentence: str
) -> None:
    picker = open_picker(client, registered)
    answer = picker.post(client, **form)
    assert answer.status_code == 400
    assert sentence in _text(answer)
    assert 'name="kind"' in _text(answer)  # the form is there to correct
    assert signed_response(client, registered, picker.post(client, kind="panel"))  # still usable


def test_what_the_instructor_typed_is_escaped(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered)
    title = '<script>alert("x")</script>'
    answer = picker.post(client, kind="survey", survey_title=title)
    assert "<script>alert" not in _text(answer)
    assert "&lt;script&gt;alert" in _text(answer)
    assert signed_response(client, registered, answer)[DL + "content_items"][0]["title"] == title
    refused = picker.post(client, kind="checkin", checkin_topic="", survey_title=title)
    assert "<script>alert" not in _text(refused)


def test_the_data_claim_is_left_out_when_the_platform_sent_none(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered, settings=_settings(data=None))
    claims = signed_response(client, registered, picker.post(client, kind="panel"))
    assert DL + "data" not in claims


GRADES = {
    AGS: {"lineitems": "https://lms.example.edu/ags/course-1/lineitems",
          "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"]},
}  # fmt: skip


def test_a_line_item_only_when_grading_is_asked_for(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered, **GRADES)
    assert "Grade participation" in _text(picker.page)
    answer = picker.post(client, kind=["panel", "survey"], survey_title="Week 1", survey_graded="1")
    panel, survey = signed_response(client, registered, answer)[DL + "content_items"]
    assert "lineItem" not in panel
    assert survey["lineItem"] == {
        "scoreMaximum": 1, "label": "Week 1", "resourceId": "survey:Week 1",
        "tag": "participation",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "claims"),
    [
        (_settings(), {}),  # no grade service in the launch
        (_settings(accept_lineitem=False), GRADES),  # the platform ignores line items here
    ],
)
def test_grading_is_not_offered_where_it_cannot_work(
    client: FlaskClient, registered: PlatformDouble, settings: Any, claims: dict[str, Any]
) -> None:
    picker = open_picker(client, registered, settings=settings, **claims)
    assert "Grade participation" not in _text(picker.page)
    answer = picker.post(client, kind="panel", panel_graded="1")
    assert "lineItem" not in signed_response(client, registered, answer)[DL + "content_items"][0]


@pytest.mark.parametrize("role", [LEARNER, MEMBERSHIP + "Mentor"], ids=["learner", "mentor"])
def test_only_instructors_can_add_the_tool(
    client: FlaskClient, registered: PlatformDouble, role: str
) -> None:
    refused = deep_link_launch(client, registered, lti_roles=[role])
    assert refused.status_code == 403
    assert "Only the course's instructors can add Virtual Mentor to it." in html.unescape(
        _text(refused)
    )


def test_a_learner_token_cannot_open_an_instructors_picker(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered)
    learner = launch(client, registered, sub="learner-2")
    token = parse_qs(urlsplit(learner.headers["Location"]).query)["lt"][0]
    refused = client.post("/lti/deep-link/", data={"lt": token, "dl": picker.picker_id,
                                                  "kind": "panel"})  # fmt: skip
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        {"lti_context": {"id": "course-2", "title": "Another course"}},
        {"sub": "instructor-2"},
    ],
    ids=["another course", "another person"],
)
def test_someone_elses_request_cannot_be_used(
    client: FlaskClient, registered: PlatformDouble, claims: dict[str, Any]
) -> None:
    mine = open_picker(client, registered)
    theirs = open_picker(client, registered, **claims)
    stolen = Picker(mine.page, theirs.token, mine.picker_id)
    for response in (client.get(f"/lti/deep-link/?lt={theirs.token}&dl={mine.picker_id}"),
                     stolen.post(client, kind="panel")):  # fmt: skip
        assert response.status_code == 403
        assert "belongs to another course or person" in _text(response)
    assert signed_response(
        client, registered, mine.post(client, kind="panel")
    )  # not used up by them


def test_a_forged_or_used_request_id_is_refused(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    picker = open_picker(client, registered)
    forged = Picker(picker.page, picker.token, picker.picker_id[:-2] + "xx")
    assert forged.post(client, kind="panel").status_code == 410
    assert signed_response(client, registered, picker.post(client, kind="panel"))
    again = picker.post(client, kind="panel")
    assert again.status_code == 410
    assert "has expired or was already answered" in _text(again)


def test_an_expired_request_is_refused(
    client: FlaskClient, registered: PlatformDouble, frozen_clock: FixedClock
) -> None:
    picker = open_picker(client, registered)
    frozen_clock.advance(
        timedelta(seconds=client.application.config["LTI_LAUNCH_TOKEN_SECONDS"] + 1)
    )
    for response in (client.get(f"/lti/deep-link/?lt={picker.token}&dl={picker.picker_id}"),
                     picker.post(client, kind="panel")):  # fmt: skip
        assert response.status_code == 410
        assert "Start again from your course." in _text(response)


@pytest.mark.parametrize(
    ("settings", "sentence"),
    [
        (_settings(deep_link_return_url="javascript:alert(1)"), "unusable deep_link_return_url"),
        (_settings(accept_presentation_document_targets=[]), "Must support a presentation type"),
    ],
)
def test_unusable_deep_linking_settings_are_refused(
    client: FlaskClient, registered: PlatformDouble, settings: dict[str, Any], sentence: str
) -> None:
    refused = deep_link_launch(client, registered, settings=settings)
    assert refused.status_code == 401
    assert sentence in _text(refused)
