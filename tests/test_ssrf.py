"""The tool never fetches from inside its own network unless allowed: every fetcher (platform
key sets, token endpoints, names-and-roles and grade pages, scores, dynamic registration,
LRSs, LMS web services, webhooks) refuses private, metadata, loopback and IPv4-in-IPv6
addresses, at the connection (so DNS cannot slip past the check), and still works against
a local server once VM_HTTP_ALLOWED_PRIVATE_NETWORKS allows it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests
from flask import Flask, Response
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select
from werkzeug.serving import make_server

from lti_tool import http_safety
from lti_tool.grades.client import GradeError, line_items, post_score
from lti_tool.lms.connections import LmsConnectionError, NewConnection
from lti_tool.lms.connections import add as add_connection
from lti_tool.lms.http import LmsError, LmsHttp
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lti import dynamic_registration, keysets, service_auth
from lti_tool.lti.errors import LaunchForbidden, PlatformAnswerError, RegistrationRequestError
from lti_tool.lti.models import PlatformRegistration
from lti_tool.mentoring.channels import endpoints, webhook
from lti_tool.mentoring.channels.base import Outcome
from lti_tool.mentoring.channels.endpoints import AddressRules, WebhookError
from lti_tool.mentoring.channels.models import WebhookEndpoint
from lti_tool.mentoring.channels.webhook import WebhookChannel, WebhookSettings
from tests.channels.messages import outgoing
from tests.factories import RegistrationFactory
from xapi.lrs import LrsClient, LrsError
from xapi.models import LrsSource
from xapi.sources import NewSource, SourceError
from xapi.sources import add as add_source

TIMEOUT = 2.0

#: (address in a URL, the address the refusal names)
REFUSED = [
    ("10.0.0.5", "10.0.0.5"),
    ("169.254.169.254", "169.254.169.254"),
    ("[::1]", "::1"),
    ("localhost", "127.0.0.1"),
    ("[::ffff:10.0.0.5]", "10.0.0.5"),
]


def _settings() -> dynamic_registration.RegistrationSettings:
    return dynamic_registration.RegistrationSettings(
        tool_origin="https://mentor.example.org", timeout=TIMEOUT, auto_approve=False,
        allow_http_loopback=True,
    )  # fmt: skip


def _token(url: str) -> None:
    registration = PlatformRegistration(name="ACME LMS", client_id="c", auth_token_url=url)
    service_auth._request_token(registration, "assertion", "scope", TIMEOUT)


#: Each fetcher: where on a site it fetches, how to fetch it, the error it raises.
FETCHERS: dict[str, tuple[str, Callable[[str], Any], type[Exception]]] = {
    "platform key set": ("/jwks", lambda url: keysets.fetch_key_set(url, TIMEOUT),
                         LaunchForbidden),
    "token endpoint": ("/token", _token, service_auth.ServiceAuthError),
    "service pages": ("/pages", lambda url: list(line_items(url, "t", timeout=TIMEOUT)),
                      GradeError),
    "scores": ("/lineitem", lambda url: post_score(url, "t", {}, timeout=TIMEOUT), GradeError),
    "dynamic registration": (
        "/openid", lambda url: dynamic_registration.read_configuration(url, None, _settings()),
        RegistrationRequestError),
    "LRS": ("/xapi", lambda url: list(LrsClient(url, "u", "p", "1.0.3", TIMEOUT).pages(
        f"{url}/statements")), LrsError),
    "LMS web services": ("/moodle", lambda url: LmsHttp("Moodle", url, TIMEOUT).get(
        f"{url}/webservice/rest/server.php"), LmsError),
}  # fmt: skip


@pytest.fixture
def production(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app as production has it: loopback not allowed unless listed."""
    monkeypatch.setitem(app.config, "ENV", "production")
    with app.app_context():
        yield app


class LocalSite:
    """A site on 127.0.0.1 answering what each fetcher expects, counting requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.app = Flask("local-site")
        self.app.add_url_rule("/<path:path>", view_func=self.answer, methods=["GET", "POST"])
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, path: str) -> Response:
        self.requests.append(f"/{path}")
        if path.startswith("redirect"):
            return Response("", 302, {"Location": "http://10.0.0.5/inside"})
        bodies = {"jwks": {"keys": []}, "token": {"access_token": "t", "expires_in": 3600},
                  "pages": [], "lineitem/scores": {}, "xapi/statements": {"statements": []},
                  "moodle/webservice/rest/server.php": {}, "openid": {},
                  "hooks/mentor": {"ok": True}}  # fmt: skip
        return Response(json.dumps(bodies[path]), mimetype="application/json")


@pytest.fixture
def site() -> Iterator[LocalSite]:
    local = LocalSite()
    threading.Thread(target=local.server.serve_forever, daemon=True).start()
    try:
        yield local
    finally:
        local.server.shutdown()


# Every fetcher refuses addresses inside ------------------------------------------------------


@pytest.mark.parametrize("fetcher", FETCHERS)
@pytest.mark.parametrize(("host", "address"), REFUSED)
def test_every_fetcher_refuses_an_address_inside_the_network(
    production: Flask, fetcher: str, host: str, address: str
) -> None:
    path, fetch, error = FETCHERS[fetcher]
    with pytest.raises(error) as refused:
        fetch(f"https://{host}{path}")
    message = str(refused.value)
    assert "refused" in message
    assert f"({address})" in message
    assert "unless VM_HTTP_ALLOWED_PRIVATE_NETWORKS allows it" in message


@pytest.mark.parametrize("fetcher", FETCHERS)
def test_every_fetcher_reaches_a_local_server_the_setting_allows(
    production: Flask, monkeypatch: pytest.MonkeyPatch, site: LocalSite, fetcher: str
) -> None:
    path, fetch, error = FETCHERS[fetcher]
    with pytest.raises(error, match=r"a loopback address \(127\.0\.0\.1\)"):
        fetch(f"{site.url}{path}")
    assert site.requests == []

    monkeypatch.setitem(production.config, "HTTP_ALLOWED_PRIVATE_NETWORKS", ["127.0.0.0/8"])
    if fetcher == "dynamic registration":  # reached; its answer is just not a configuration
        with pytest.raises(PlatformAnswerError, match="issuer"):
            fetch(f"{site.url}{path}")
    else:
        fetch(f"{site.url}{path}")
    assert site.requests


@pytest.mark.parametrize("fetcher", FETCHERS)
def test_no_fetcher_follows_a_redirect_into_the_network(
    production: Flask, monkeypatch: pytest.MonkeyPatch, site: LocalSite, fetcher: str
) -> None:
    monkeypatch.setitem(production.config, "HTTP_ALLOWED_PRIVATE_NETWORKS", ["127.0.0.1"])
    _path, fetch, error = FETCHERS[fetcher]
    with pytest.raises((error, PlatformAnswerError), match=r"redirect|302"):
        fetch(f"{site.url}/redirect")
    assert [path.split("/")[1] for path in site.requests] == ["redirect"]


def test_a_redirect_that_is_followed_is_checked_at_each_hop(
    production: Flask, monkeypatch: pytest.MonkeyPatch, site: LocalSite
) -> None:
    monkeypatch.setitem(production.config, "HTTP_ALLOWED_PRIVATE_NETWORKS", ["127.0.0.1"])
    with (
        http_safety.session() as http,
        pytest.raises(http_safety.AddressRefused, match=r"private network address \(10\.0\.0\.5\)"),
    ):
        http.get(f"{site.url}/redirect", timeout=TIMEOUT)


def test_a_host_that_changes_its_address_after_the_check_is_refused_at_the_connection(
    production: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is public, the one the connection gets is not."""
    answers = iter(["93.184.215.14", "10.0.0.5"])

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 443))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert http_safety.url_problem("https://rebind.example/jwks") is None
    with pytest.raises(LaunchForbidden, match=r"rebind\.example points to a private network"):
        keysets.fetch_key_set("https://rebind.example/jwks", TIMEOUT)


# Refused when given: nothing is stored ------------------------------------------------------


def test_dynamic_registration_into_the_network_is_a_400_that_says_why(
    client: FlaskClient, db: SQLAlchemy
) -> None:
    before = db.session.scalar(select(func.count()).select_from(PlatformRegistration))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(client.application.config, "ENV", "production")
        inside = "https://10.0.0.5/.well-known/openid-configuration"
        answer = client.get("/lti/register", query_string={"openid_configuration": inside})
    assert answer.status_code == 400
    assert (
        "is a private network address (10.0.0.5); the tool does not fetch from private "
        "networks unless VM_HTTP_ALLOWED_PRIVATE_NETWORKS allows it" in answer.text
    )
    after = db.session.scalar(select(func.count()).select_from(PlatformRegistration))
    assert after == before


def test_an_lrs_or_lms_inside_the_network_is_refused_when_added(db: SQLAlchemy) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    with pytest.raises(SourceError, match=r"metadata\) address \(169\.254\.169\.254\)"):
        add_source(db.session(), NewSource(registration.id, "LRS", "https://169.254.169.254/x",
                                           "u", "p"), production=False)  # fmt: skip
    with pytest.raises(LmsConnectionError, match=r"private network address \(10\.0\.0\.5\)"):
        add_connection(db.session(), NewConnection(registration.id, LmsKind.MOODLE,
                                                   "https://[::ffff:10.0.0.5]", "token"),
                       production=False)  # fmt: skip
    assert db.session.scalars(select(LrsSource)).all() == []
    assert db.session.scalars(select(LmsConnection)).all() == []


def test_a_webhook_into_the_network_is_refused_when_added_and_when_posted(
    app: Flask, db: SQLAlchemy, monkeypatch: pytest.MonkeyPatch, site: LocalSite
) -> None:
    registration = RegistrationFactory()
    db.session.commit()
    production = AddressRules(production=True)
    with pytest.raises(WebhookError, match=r"localhost points to a loopback address"):
        endpoints.add(db.session(), registration.id, "https://localhost/hooks/mentor", production)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []

    # Added while allowed, then posted to by a tool that no longer allows it.
    endpoints.add(db.session(), registration.id, f"{site.url}/hooks/mentor",
                  AddressRules(production=False))  # fmt: skip
    settings = WebhookSettings.from_config(app.config)
    allowed = WebhookChannel(db.session(), settings).send(outgoing(registration_id=registration.id))
    assert allowed.outcome == Outcome.SENT
    monkeypatch.setattr(webhook, "check_url", lambda url, rules, **_: url)  # as if DNS changed
    refusing = replace(settings, rules=replace(settings.rules, production=True))
    result = WebhookChannel(db.session(), refusing).send(outgoing(registration_id=registration.id))
    assert result.outcome == Outcome.FAILED
    assert "is a loopback address (127.0.0.1)" in result.reason
    assert site.requests == ["/hooks/mentor"]


# The policy itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "allowed", "address", "refused"),
    [
        ("production", [], "127.0.0.1", True),
        ("development", [], "127.0.0.1", False),
        ("testing", [], "::1", False),
        ("development", [], "10.0.0.5", True),
        ("production", ["10.20.0.0/16"], "10.20.3.4", False),
        ("production", ["10.20.0.0/16"], "::ffff:10.20.3.4", False),
        ("production", ["10.20.0.0/16"], "10.21.0.1", True),
        ("production", [], "100.64.0.1", True),
        ("production", [], "0.0.0.0", True),  # noqa: S104 (an address refused, not bound)
        ("production", [], "fc00::1", True),
        ("production", [], "fe80::1", True),
        ("production", [], "224.0.0.1", True),
        ("production", [], "2002:a00:5::", True),  # 6to4 carrying 10.0.0.5
        ("production", [], "93.184.215.14", False),
        ("production", [], "2606:4700::1", False),
    ],
)  # fmt: skip
def test_which_addresses_the_policy_refuses(
    env: str, allowed: list[str], address: str, refused: bool
) -> None:
    policy = http_safety.policy_from_config({"ENV": env, "HTTP_ALLOWED_PRIVATE_NETWORKS": allowed})
    assert (policy.refusal("host.example", address) is not None) is refused


def test_a_host_named_in_the_setting_may_be_at_any_address() -> None:
    policy = http_safety.policy_from_config(
        {"ENV": "production", "HTTP_ALLOWED_PRIVATE_NETWORKS": ["LRS.internal."]}
    )
    assert policy.refusal("lrs.internal", "10.9.8.7") is None
    assert policy.refusal("other.internal", "10.9.8.7") is not None
    assert policy.networks == ()


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "10.1.2", "https://lrs.internal", "a b"])
def test_a_setting_entry_that_is_neither_a_network_nor_a_host_stops_the_start(entry: str) -> None:
    [problem] = http_safety.setting_problems({"HTTP_ALLOWED_PRIVATE_NETWORKS": [entry]})
    assert "VM_HTTP_ALLOWED_PRIVATE_NETWORKS" in problem
    assert entry in problem


def test_a_refusal_is_a_connection_error_so_callers_that_handle_those_never_fail_with_500(
    production: Flask,
) -> None:
    with http_safety.session() as http, pytest.raises(requests.ConnectionError):
        http.get("http://169.254.169.254/latest/meta-data/", timeout=TIMEOUT)
