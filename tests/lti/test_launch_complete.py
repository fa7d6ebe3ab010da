"""The postMessage launch (cookies blocked in the LMS's iframe): the state comes back from the
platform's storage and the tool's own waiting page posts it to ``/lti/launch/complete``.
Another site cannot post someone's pending launch for them."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.platform import TOOL, PlatformDouble, login


@dataclass
class Pending:
    """A launch waiting for its state to come back from the platform's storage."""

    launch_id: str
    state: str


@pytest.fixture
def pending(client: FlaskClient, registered: PlatformDouble) -> Pending:
    """Log in and launch as a browser that keeps no cookie in the iframe."""
    started = login(client, registered, lti_storage_target="_parent")
    page = started.response.get_data(as_text=True)
    assert started.response.status_code == 200
    found = re.search(r'data-next="([^"]+)"', page)
    assert found is not None
    query = parse_qs(urlsplit(html.unescape(found.group(1))).query)
    state, nonce = query["state"][0], query["nonce"][0]
    token = registered.sign(registered.claims(nonce))
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert response.status_code == 200  # the waiting page: no cookie came back
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', response.get_data(as_text=True))
    assert launch_id is not None
    return Pending(launch_id.group(1), state)


def _complete(client: FlaskClient, pending: Pending, **headers: str) -> TestResponse:
    return client.post(
        "/lti/launch/complete", data={"launch_id": pending.launch_id, "state": pending.state},
        headers=headers,
    )  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": TOOL, "Sec-Fetch-Site": "same-origin"},  # a browser today
        {"Origin": TOOL},  # a browser without fetch metadata
        {},  # not a browser: the launch id and the state are still needed
    ],
)
def test_the_tools_own_page_completes_the_launch(
    client: FlaskClient, pending: Pending, headers: dict[str, str]
) -> None:
    response = _complete(client, pending, **headers)
    assert response.status_code == 303
    assert "/panel/?lt=" in response.headers["Location"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},  # a sandboxed frame or a data: page
        {"Origin": "http://localhost.attacker.example"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain
    ],
)
def test_another_site_cannot_post_a_pending_launch(
    client: FlaskClient, pending: Pending, headers: dict[str, str]
) -> None:
    response = _complete(client, pending, **headers)
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "This sign-in was sent from another site, so it was refused." in text
    # The refusal used nothing up: the tool's own page can still complete it.
    assert _complete(client, pending, Origin=TOOL).status_code == 303


def test_a_pending_launch_is_used_once(client: FlaskClient, pending: Pending) -> None:
    assert _complete(client, pending, Origin=TOOL).status_code == 303
    again = _complete(client, pending, Origin=TOOL)
    assert again.status_code == 401
    assert "expired or was already used" in again.get_data(as_text=True)


def test_a_wrong_state_is_refused(client: FlaskClient, pending: Pending) -> None:
    response = _complete(client, Pending(pending.launch_id, "not-the-state"), Origin=TOOL)
    assert response.status_code == 401
    assert "does not match" in response.get_data(as_text=True)
