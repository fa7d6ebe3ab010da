"""CSRF: every route that changes something needs more than the cookies a browser sends along.

A forged cross-site form (or fetch) rides on the victim's cookies but cannot read our pages, so
it knows neither the launch token ``lt`` a page puts in its forms, nor a signed email link, nor
a statement source's Basic credentials, nor the platform's signed id_token. Each route that
takes POST, PUT, PATCH or DELETE (walked from the app's ``url_map``, embedded platform
included) is listed here with what protects it, and called as such a forgery would call it:
with cookies (a launch token as ``lt`` and ``session`` cookies, the login's state cookie), an
attacker's Origin and Referer, and the form, but not the credential. It must be refused with
the status its guard gives, store nothing, and let no other site read the answer (no CORS
header). A route without protection fails ``test_every_write_route_is_guarded`` unless
``UNGUARDED`` gives the reason it needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from werkzeug.test import TestResponse

from lti_tool.clock import FixedClock
from lti_tool.lti.login import state_cookie_name
from tests.helpers.authz import World, another_app, build, snapshot
from tests.test_authorization_matrix import DEMO_ONLY, LOGIN, MATRIX, call, routes

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ATTACKER = "https://attacker.example"


@dataclass(frozen=True)
class Guard:
    """What a route needs besides cookies, and the status of a request without it."""

    needs: str
    refused: int


LAUNCH_TOKEN = Guard("the launch token in the form, the query or a Bearer header", 401)
SIGNED_LINK = Guard("the signed token of the email link, in the path", 400)
ID_TOKEN = Guard("the platform's signed id_token and the login's state", 401)
PENDING_LAUNCH = Guard("the pending launch's id and the state the platform's storage kept", 401)
BASIC = Guard("a statement source's HTTP Basic credentials", 401)
ACCESS_TOKEN = Guard("an OAuth2 access token of the embedded platform (Bearer)", 401)
ASSERTION = Guard("a client assertion JWT signed with the tool's key", 400)
RESPONSE_JWT = Guard("the deep-linking response JWT signed with the tool's key", 400)
REGISTRATION_TOKEN = Guard("the embedded platform's registration token (Bearer)", 401)


def _guard(rule: str) -> Guard:
    if rule.startswith(("/panel/", "/console/", "/lti/deep-link/")):
        return LAUNCH_TOKEN
    if rule.startswith("/mentoring/"):
        return SIGNED_LINK
    if rule.startswith("/xapi/"):
        return BASIC
    if rule.startswith("/dev-platform/ags/"):
        return ACCESS_TOKEN
    special = {"/lti/launch": ID_TOKEN, "/lti/launch/complete": PENDING_LAUNCH,
               "/dev-platform/token": ASSERTION, "/dev-platform/deep-link-return": RESPONSE_JWT,
               "/dev-platform/register": REGISTRATION_TOKEN}  # fmt: skip
    return special[rule]


#: Write routes that need no credential, and why.
UNGUARDED = {
    ("/lti/login", "POST"): (
        "OIDC third-party initiated login: the platform starts it from its own site by design. "
        "It stores only a state and nonce that expire, and grants nothing until the platform's "
        "signed id_token comes back to /lti/launch."
    ),
}


def _write_routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(key for key in routes(app) if key[1] in WRITES)


@pytest.fixture
def demo_app(make_app: Callable[..., Flask], app: Flask) -> Flask:
    """The app with its embedded platform, as the demo runs it: the most routes there are."""
    return another_app(make_app, app, LTI_EMBEDDED_PLATFORM=True)


def test_every_write_route_is_guarded(demo_app: Flask) -> None:
    unknown = []
    for rule, method in _write_routes(demo_app):
        if (rule, method) in UNGUARDED:
            continue
        try:
            _guard(rule)
        except KeyError:
            unknown.append((rule, method))
    assert not unknown, f"write routes with no guard and no reason to need none: {unknown}"
    assert set(UNGUARDED) <= set(_write_routes(demo_app)), "reasons for routes that are gone"


GUARDED = [key for key in sorted(MATRIX) if key[1] in WRITES and key not in UNGUARDED]
DEMO_WRITES = [key for key in sorted(DEMO_ONLY) if key[1] in WRITES]


def test_the_lists_below_cover_every_write_route(demo_app: Flask) -> None:
    assert set(GUARDED) | set(DEMO_WRITES) | set(UNGUARDED) == set(_write_routes(demo_app))


@pytest.fixture
def world(app: Flask, db: SQLAlchemy, frozen_clock: FixedClock,
          monkeypatch: pytest.MonkeyPatch) -> World:  # fmt: skip
    """The authorization matrix's world (tests/helpers/authz.py)."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    return build(db, app)


def _as_a_forgery(client: FlaskClient, world: World) -> None:
    """The victim's cookies (a staff token and a learner's, as if a page had set them), and the
    attacker's Origin and Referer, on every request the client makes."""
    for name, actor in (("lt", "mentor"), ("session", "owner")):
        client.set_cookie(name, str(world.token(actor)))
    client.environ_base.update(HTTP_ORIGIN=ATTACKER, HTTP_REFERER=ATTACKER + "/page")


def _refused_and_unread(response: TestResponse, guard: Guard) -> None:
    assert response.status_code == guard.refused, response.get_data(as_text=True)[:1000]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("key", GUARDED, ids=[f"{m} {r}" for r, m in GUARDED])
def test_a_cross_site_request_with_cookies_only_does_nothing(
    client: FlaskClient, db: SQLAlchemy, world: World, frozen_clock: FixedClock,
    key: tuple[str, str],
) -> None:  # fmt: skip
    """The route's own form, as the matrix sends it, without what its guard needs: no launch
    token, a changed email link, no Basic credentials, no id_token or pending launch."""
    guard = _guard(key[0])
    if guard is ID_TOKEN:  # the victim's browser holds a live login's state cookie
        login = client.get("/lti/login", query_string={
            name: value.format(**world.words) for name, value in LOGIN.items()})  # fmt: skip
        assert login.status_code == 302
        state = parse_qs(urlsplit(login.headers["Location"]).query)["state"][0]
        assert client.get_cookie(state_cookie_name(state), path="/lti/") is not None
        world.words["picker"] = state  # the row's form sends it as the launch's state
    _as_a_forgery(client, world)
    before = snapshot(db)
    actor = "tampered" if guard is SIGNED_LINK else "anonymous"
    response = call(client, world, key, actor, frozen_clock)
    _refused_and_unread(response, guard)
    assert snapshot(db) == before, "a forged request changed stored rows"


@pytest.mark.parametrize("key", DEMO_WRITES, ids=[f"{m} {r}" for r, m in DEMO_WRITES])
def test_the_embedded_platform_refuses_forged_writes(
    demo_app: Flask, db: SQLAlchemy, world: World, key: tuple[str, str]
) -> None:
    """The demo's platform too: a form without its token, assertion or signed JWT."""
    client = demo_app.test_client()
    _as_a_forgery(client, world)
    before = snapshot(db)
    form = {"JWT": "forged", "grant_type": "client_credentials", "label": "Forged"}
    response = client.open(DEMO_ONLY[key], method=key[1], data=form)
    _refused_and_unread(response, _guard(key[0]))
    assert snapshot(db) == before, "a forged request changed stored rows"


def test_a_login_started_cross_site_without_its_parameters_stores_nothing(
    client: FlaskClient, db: SQLAlchemy, world: World
) -> None:
    """The one unguarded write: with cookies and no platform's parameters, nothing is kept."""
    _as_a_forgery(client, world)
    before = snapshot(db)
    response = client.post("/lti/login", data={"lt": world.token("mentor")})
    assert response.status_code == 400
    assert snapshot(db) == before


#: GET routes that store something, and why that is no forgery's gain.
STORING_GETS = {
    ("/lti/login", "GET"): UNGUARDED[("/lti/login", "POST")],
}
READS = [key for key in sorted(MATRIX) if key[1] == "GET" and key not in STORING_GETS]


@pytest.mark.parametrize("key", READS, ids=[rule for rule, _ in READS])
def test_a_cross_site_get_stores_nothing(
    client: FlaskClient, db: SQLAlchemy, world: World, frozen_clock: FixedClock,
    key: tuple[str, str],
) -> None:  # fmt: skip
    """A link or image on another site makes the browser GET with its cookies: whatever the
    answer, nothing is stored (an email link's reader, who holds the link, included)."""
    _as_a_forgery(client, world)
    before = snapshot(db)
    response = call(client, world, key, "anonymous", frozen_clock)
    assert response.status_code < 500
    assert "Access-Control-Allow-Origin" not in response.headers
    assert snapshot(db) == before, "a GET changed stored rows"
