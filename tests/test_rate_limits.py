"""Rate limits as a caller meets them: logins and launches per address, questions and replies per
learner, statement requests per source. Over a limit the answer is 429 with Retry-After and a
sentence, nothing is stored, other callers go on, and the limit resets; on Redis, two app
instances (two gunicorn workers) share one count.

The suite's own settings have limits nobody reaches (tests/conftest.py); these tests put
tight ones in place on the same app.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool import rate_limits
from lti_tool.settings import ConfigError, load_settings, validate
from lti_tool.threads.models import Post, Thread
from tests.factories import RegistrationFactory
from tests.helpers.platform import PlatformDouble, launch, login
from tests.helpers.services import service_url
from tests.lti.conftest import platform, registered  # noqa: F401 (fixtures, shared by import)
from tests.panel.conftest import People, people  # noqa: F401 (fixtures, shared by import)
from xapi import credentials
from xapi.models import Statement

STATEMENT = Path(__file__).parent / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"


@pytest.fixture
def lms(request: pytest.FixtureRequest) -> PlatformDouble:
    """A registered test platform (the LTI tests' ``registered``, under a name of our own)."""
    return request.getfixturevalue("registered")


@pytest.fixture
def course(request: pytest.FixtureRequest) -> People:
    """Ana, Ben, their mentor Maya (the panel tests' ``people``, under a name of our own)."""
    return request.getfixturevalue("people")


@pytest.fixture
def limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Put tight limits (``launch="2/minute"``) in place, counted afresh in memory."""

    def tighten(**changes: str) -> None:
        config = {**app.config, **{f"RATE_LIMITS_{k.upper()}": v for k, v in changes.items()}}
        monkeypatch.setitem(app.extensions, "rate_limits", rate_limits.build(config))

    return tighten


def _client(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _assert_refused(response: Any, *, longest_wait: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= longest_wait
    assert "Please try again in" in response.get_data(as_text=True)


def test_logins_from_one_address_are_refused_over_the_limit(
    app: Flask, db: SQLAlchemy, lms: PlatformDouble, limits: Callable[..., None]
) -> None:
    limits(login="3/minute")
    client = _client(app, "198.51.100.7")
    assert [login(client, lms).response.status_code for _ in range(3)] == [302] * 3
    refused = login(client, lms).response
    _assert_refused(refused, longest_wait=60)
    assert refused.mimetype == "text/html"
    assert "Too many logins have started from your network" in refused.get_data(as_text=True)
    other = _client(app, "198.51.100.8")
    assert login(other, lms).response.status_code == 302


def test_launches_are_refused_over_the_limit_and_others_launch(
    app: Flask, db: SQLAlchemy, lms: PlatformDouble, limits: Callable[..., None]
) -> None:
    limits(launch="2/minute")
    client = _client(app, "198.51.100.9")
    assert [launch(client, lms).status_code for _ in range(2)] == [303, 303]
    refused = launch(client, lms)
    _assert_refused(refused, longest_wait=60)
    assert "Too many launches" in refused.get_data(as_text=True)
    assert launch(_client(app, "198.51.100.10"), lms).status_code == 303


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(
    app: Flask, make_app: Callable[..., Flask], db: SQLAlchemy
) -> None:
    for hops, apart in ((0, False), (1, True)):
        served = make_app(HTTP_PROXY_HOPS=hops, RATE_LIMITS_LOGIN="1/minute")
        client = _client(served, f"192.0.2.{hops + 1}")
        first = client.get("/lti/login", headers={"X-Forwarded-For": "203.0.113.1"})
        second = client.get("/lti/login", headers={"X-Forwarded-For": "203.0.113.2"})
        assert first.status_code != 429
        # Without a trusted proxy the header is the caller's to invent: it changes nothing.
        assert (second.status_code != 429) is apart


def test_questions_and_replies_are_limited_per_learner_and_nothing_is_stored(
    course: People, db: SQLAlchemy, limits: Callable[..., None]
) -> None:
    limits(questions="2/hour", replies="1/hour")
    for number in range(2):
        assert course.post("ana", "/panel/ask", question=f"Question {number}?").status_code == 303
    threads = db.session.scalar(select(func.count()).select_from(Thread))
    refused = course.post("ana", "/panel/ask", question="One more?")
    _assert_refused(refused, longest_wait=3600)
    assert "many questions in a short time" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Thread)) == threads
    assert course.post("ben", "/panel/ask", question="Mine?").status_code == 303

    ana = Thread.learner_id == course.ids["ana"]
    thread_id = db.session.scalars(select(Thread.id).where(ana)).first()
    reply = f"/panel/threads/{thread_id}/reply"
    assert course.post("ana", reply, text="More detail").status_code == 303
    posts = db.session.scalar(select(func.count()).select_from(Post))
    _assert_refused(course.post("ana", reply, text="And more"), longest_wait=3600)
    assert db.session.scalar(select(func.count()).select_from(Post)) == posts


def test_a_refusal_is_in_the_learners_language(
    course: People, db: SQLAlchemy, limits: Callable[..., None]
) -> None:
    limits(questions="0/hour")
    refused = course.client.post(
        "/panel/ask", data={"lt": course.token["ana"], "question": "Bonjour ?"},
        headers={"Accept-Language": "fr"},
    )  # fmt: skip
    assert refused.status_code == 429
    assert "Réessayez dans" in refused.get_data(as_text=True)


def _source(db: SQLAlchemy) -> dict[str, str]:
    registration = RegistrationFactory()
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Moodle logstore")
    basic = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    return {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"}


def _statement() -> dict[str, Any]:
    return {**json.loads(STATEMENT.read_text()), "id": str(uuid.uuid4())}


def _stored(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Statement)) or 0)


def test_statement_requests_are_limited_per_source_then_reset(
    client: FlaskClient, db: SQLAlchemy, limits: Callable[..., None]
) -> None:
    limits(statements="2 per 2 seconds")
    source, other = _source(db), _source(db)
    post = client.post("/xapi/statements", json=[_statement(), _statement()], headers=source)
    put = client.put(f"/xapi/statements?statementId={uuid.uuid4()}", json={
        k: v for k, v in _statement().items() if k != "id"}, headers=source)  # fmt: skip
    assert (post.status_code, put.status_code) == (200, 204)
    stored = _stored(db)

    refused = client.post("/xapi/statements", json=_statement(), headers=source)
    _assert_refused(refused, longest_wait=2)
    assert refused.mimetype == "application/json"
    assert refused.json["error"] == "Too many requests"
    assert refused.json["message"].startswith("This statement source has sent too many")
    assert _stored(db) == stored
    assert client.post("/xapi/statements", json=_statement(), headers=other).status_code == 200

    time.sleep(int(refused.headers["Retry-After"]) + 0.1)
    assert client.post("/xapi/statements", json=_statement(), headers=source).status_code == 200


def test_bad_credentials_do_not_use_up_a_sources_limit(
    client: FlaskClient, db: SQLAlchemy, limits: Callable[..., None]
) -> None:
    limits(statements="1/minute")
    source = _source(db)
    key = base64.b64decode(source["Authorization"].split()[1]).decode().split(":")[0]
    forged = base64.b64encode(f"{key}:wrong".encode()).decode()
    for _ in range(3):
        response = client.post("/xapi/statements", json=_statement(),
                               headers={**source, "Authorization": f"Basic {forged}"})  # fmt: skip
        assert response.status_code == 401
    assert client.post("/xapi/statements", json=_statement(), headers=source).status_code == 200


@pytest.mark.parametrize("value", ["lots", "10/fortnight", 10])
def test_a_limit_that_is_not_one_is_refused_at_start(value: object) -> None:
    settings = load_settings({"RATE_LIMITS_LAUNCH": value}, environ={})
    with pytest.raises(ConfigError, match=r"VM_RATE_LIMITS_LAUNCH .* not a rate limit"):
        validate(settings)


def test_an_empty_limit_is_no_limit_and_storage_must_be_memory_or_redis() -> None:
    validate(load_settings({"RATE_LIMITS_QUESTIONS": ""}, environ={}))
    with pytest.raises(ConfigError, match="VM_RATE_LIMITS_STORAGE_URL must be"):
        validate(load_settings({"RATE_LIMITS_STORAGE_URL": "memcached://x"}, environ={}))


def test_counts_live_in_the_launch_storages_redis_unless_told_otherwise() -> None:
    settings = load_settings(environ={})
    assert rate_limits.storage_url(settings) == "memory://"
    settings["LTI_STORAGE_URL"] = "redis://cache:6379/1"
    assert rate_limits.storage_url(settings) == "redis://cache:6379/1"
    settings["RATE_LIMITS_STORAGE_URL"] = "redis://cache:6379/2"
    assert rate_limits.storage_url(settings) == "redis://cache:6379/2"


@pytest.mark.integration
def test_two_app_instances_on_redis_share_one_count(
    make_app: Callable[..., Flask], db: SQLAlchemy
) -> None:
    url = service_url("VM_TEST_REDIS_URL", "Redis")
    first, second = (make_app(RATE_LIMITS_STORAGE_URL=url, RATE_LIMITS_LOGIN="2/minute")
                     for _ in range(2))  # fmt: skip
    address, other = (f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{n}" for n in (1, 2))
    assert _client(first, address).get("/lti/login").status_code != 429
    assert _client(second, address).get("/lti/login").status_code != 429
    _assert_refused(_client(first, address).get("/lti/login"), longest_wait=60)
    _assert_refused(_client(second, address).get("/lti/login"), longest_wait=60)
    assert _client(second, other).get("/lti/login").status_code != 429


def test_an_unreachable_redis_lets_requests_through(
    app: Flask, db: SQLAlchemy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = {**app.config, "RATE_LIMITS_STORAGE_URL": "redis://127.0.0.1:1/0",
               "RATE_LIMITS_LOGIN": "0/minute", "LTI_HTTP_TIMEOUT_SECONDS": 1}  # fmt: skip
    monkeypatch.setitem(app.extensions, "rate_limits", rate_limits.build(nowhere))
    assert app.test_client().get("/lti/login").status_code != 429
    assert "Rate limit storage unreachable: login let through" in caplog.text
