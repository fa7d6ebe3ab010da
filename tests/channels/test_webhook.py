"""Webhooks as an administrator sets them up and a chat tool receives them: signed JSON that
the receiver can verify, the same idempotency key on every retry, answers sorted into
"later" and "for good", and no post into private networks from a production tool."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.lti.models import PlatformRegistration
from lti_tool.mentoring.channels import endpoints
from lti_tool.mentoring.channels.base import Outcome
from lti_tool.mentoring.channels.endpoints import AddressRules, WebhookError, check_url
from lti_tool.mentoring.channels.models import WebhookEndpoint
from lti_tool.mentoring.channels.webhook import WebhookChannel, WebhookSettings, signature, verify
from tests.channels.fake_receiver import FakeReceiver
from tests.channels.messages import outgoing
from tests.factories import RegistrationFactory

DEVELOPMENT = AddressRules(production=False)
PRODUCTION = AddressRules(production=True)


@pytest.fixture
def registration(db: SQLAlchemy) -> PlatformRegistration:
    made = RegistrationFactory()
    db.session.commit()
    return made


def add_webhook(runner: FlaskCliRunner, registration: int, url: str) -> tuple[str, str]:
    """``channels add-webhook``; its output and the secret it showed."""
    added = runner.invoke(args=["channels", "add-webhook", "--registration", str(registration),
                                "--url", url, "--name", "ACME Teams"])  # fmt: skip
    assert added.exit_code == 0, added.output
    found = re.search(
        r"Signing secret \(shown once; give it to the receiver\): (\S+)", added.output
    )
    assert found is not None
    return added.output, found.group(1)


def channel(app: Flask, db: SQLAlchemy, timeout: float = 2.0) -> WebhookChannel:
    settings = replace(WebhookSettings.from_config(app.config), timeout=timeout)
    return WebhookChannel(db.session(), settings)


def test_the_receiver_gets_signed_json_it_can_verify(
    app: Flask, db: SQLAlchemy, runner: FlaskCliRunner, registration: PlatformRegistration,
    receiver: FakeReceiver,
) -> None:  # fmt: skip
    _output, secret = add_webhook(runner, registration.id, receiver.hook_url)
    message = outgoing(registration_id=registration.id)

    result = channel(app, db).send(message)

    assert result.outcome == Outcome.SENT
    headers, body = receiver.last()
    assert verify(secret.encode(), headers["X-Vm-Timestamp"], body, headers["X-Vm-Signature"],
                  now=time.time())  # fmt: skip
    assert headers["Idempotency-Key"] == "delivery-7"
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert sent["type"] == "mentor.message"
    assert sent["delivery_id"] == 7
    assert sent["learner"]["name"] == "Ana Lima"
    assert sent["mentor"] == {"name": "Maria Souza", "title": "Head of training",
                              "email": "maria@acme.example"}  # fmt: skip
    assert sent["subject"] == message.subject
    assert sent["html"] == message.html
    assert sent["links"][1] == {"label": "Not yet", "url": "https://vm.example.org/a/not-yet?t=1"}
    assert sent["course"] == {"title": "Customer care"}


def test_a_post_that_is_altered_old_or_signed_with_another_secret_does_not_verify() -> None:
    body, now = b'{"delivery_id": 7}', 1_800_000_000.0
    signed = signature(b"secret", "1800000000", body)

    assert verify(b"secret", "1800000000", body, signed, now=now)
    assert not verify(b"secret", "1800000000", body + b" ", signed, now=now)
    assert not verify(b"other", "1800000000", body, signed, now=now)
    assert not verify(b"secret", "1800000000", body, signed, now=now + 301)
    assert not verify(b"secret", "18e8", body, signed, now=now)


def test_a_retry_carries_the_same_idempotency_key(
    app: Flask, db: SQLAlchemy, runner: FlaskCliRunner, registration: PlatformRegistration,
    receiver: FakeReceiver,
) -> None:  # fmt: skip
    add_webhook(runner, registration.id, receiver.hook_url)
    receiver.answers.append((503, "down for maintenance", {"Retry-After": "120"}))
    webhook = channel(app, db)

    first = webhook.send(outgoing(registration_id=registration.id))
    second = webhook.send(outgoing(registration_id=registration.id))

    assert (first.outcome, first.retry_after) == (Outcome.RETRY, 120)
    assert first.reason == "The webhook could not take it now (HTTP 503)."
    assert second.outcome == Outcome.SENT
    keys = [headers["Idempotency-Key"] for headers, _body in receiver.posts]
    assert keys == ["delivery-7", "delivery-7"]


@pytest.mark.parametrize(
    ("answer", "outcome", "reason"),
    [
        ((429, "", {}), Outcome.RETRY, "The webhook asked the tool to slow down (HTTP 429)."),
        ((500, "oops", {}), Outcome.RETRY, "The webhook could not take it now (HTTP 500)."),
        ((404, "no such hook", {}), Outcome.FAILED,
         "The webhook refused the message (HTTP 404): no such hook"),
        ((400, "", {}), Outcome.FAILED,
         "The webhook refused the message (HTTP 400): no explanation given"),
        ((301, "", {"Location": "https://elsewhere.example/"}), Outcome.FAILED,
         "The webhook answered with a redirect (HTTP 301); give the address it redirects to "
         "(the tool does not follow redirects)."),
        ((204, "", {}), Outcome.SENT, ""),
    ],
)  # fmt: skip
def test_each_answer_is_sorted_into_sent_later_or_for_good(
    app: Flask, db: SQLAlchemy, runner: FlaskCliRunner, registration: PlatformRegistration,
    receiver: FakeReceiver, answer: tuple[int, str, dict[str, str]], outcome: Outcome, reason: str,
) -> None:  # fmt: skip
    add_webhook(runner, registration.id, receiver.hook_url)
    receiver.answers.append(answer)

    result = channel(app, db).send(outgoing(registration_id=registration.id))

    assert (result.outcome, result.reason) == (outcome, reason)
    assert len(receiver.posts) == 1  # no redirect followed


def test_a_receiver_that_hangs_is_tried_later(
    app: Flask, db: SQLAlchemy, runner: FlaskCliRunner, registration: PlatformRegistration,
    receiver: FakeReceiver,
) -> None:  # fmt: skip
    add_webhook(runner, registration.id, receiver.hook_url)
    receiver.hang = 5.0

    result = channel(app, db, timeout=0.5).send(outgoing(registration_id=registration.id))

    assert (result.outcome, result.reason) == (
        Outcome.RETRY, "The webhook did not answer within 0.5 s.")  # fmt: skip


def test_a_receiver_that_is_down_is_tried_later(
    app: Flask, db: SQLAlchemy, runner: FlaskCliRunner, registration: PlatformRegistration,
    receiver: FakeReceiver,
) -> None:  # fmt: skip
    add_webhook(
        runner, registration.id, receiver.hook_url.replace(receiver.url, "http://127.0.0.1:9")
    )

    result = channel(app, db).send(outgoing(registration_id=registration.id))

    assert result.outcome == Outcome.RETRY
    assert result.reason == "The webhook could not be reached (ConnectionError)."


def test_a_platform_without_a_webhook_is_not_reachable_this_way(
    app: Flask, db: SQLAlchemy, registration: PlatformRegistration
) -> None:
    result = channel(app, db).send(outgoing(registration_id=registration.id))

    assert result.outcome == Outcome.UNAVAILABLE
    assert result.reason == "No webhook is set up for the learner's platform."


def test_an_administrator_lists_and_removes_a_webhook_and_its_secret_is_shown_once(
    app: Flask, db: SQLAlchemy, runner: FlaskCliRunner, registration: PlatformRegistration,
    receiver: FakeReceiver,
) -> None:  # fmt: skip
    _added, secret = add_webhook(runner, registration.id, receiver.hook_url)
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert secret.encode() not in endpoint.secret_encrypted
    second = runner.invoke(args=["channels", "add-webhook", "--registration",
                                 str(registration.id), "--url", receiver.hook_url])  # fmt: skip
    assert second.exit_code != 0
    assert f"already posts to {receiver.hook_url} (webhook #{endpoint.id})" in second.output

    listed = runner.invoke(args=["channels", "list-webhooks"])
    removed = runner.invoke(args=["channels", "remove-webhook", str(endpoint.id)])

    assert f"#{endpoint.id}  registration #{registration.id}  ACME Teams" in listed.output
    assert "in use" in listed.output
    assert "nothing more is posted to it" in removed.output
    assert secret not in listed.output + removed.output
    db.session.expire_all()
    assert endpoint.secret_encrypted == b""
    result = channel(app, db).send(outgoing(registration_id=registration.id))
    assert result.outcome == Outcome.UNAVAILABLE
    again = runner.invoke(args=["channels", "remove-webhook", str(endpoint.id)])
    assert f"There is no webhook #{endpoint.id}." in again.output


@pytest.mark.parametrize(
    ("url", "rules", "problem"),
    [
        ("https://10.1.2.3/hook", PRODUCTION, "is a private network address (10.1.2.3)"),
        ("https://192.168.0.10/hook", DEVELOPMENT, "a private network address (192.168.0.10)"),
        ("https://127.0.0.1/hook", PRODUCTION, "is a loopback address (127.0.0.1)"),
        ("https://[::1]/hook", PRODUCTION, "is a loopback address (::1)"),
        ("https://[::ffff:10.0.0.1]/hook", PRODUCTION, "a private network address (10.0.0.1)"),
        ("https://169.254.169.254/latest", AddressRules(production=True, allow_private=True),
         "is a link-local (cloud metadata) address (169.254.169.254)"),
        ("http://127.0.0.1:8080/hook", PRODUCTION, "must use https://"),
        ("http://hooks.example.org/x", DEVELOPMENT, "must use https://"),
        ("https://user:pw@hooks.example.org/x", DEVELOPMENT, "not in the webhook address"),
        ("hooks.example.org", DEVELOPMENT, "is not a web address"),
    ],
)  # fmt: skip
def test_addresses_into_private_networks_are_refused(
    url: str, rules: AddressRules, problem: str
) -> None:
    with pytest.raises(WebhookError, match=re.escape(problem)):
        check_url(url, rules)


@pytest.mark.parametrize(
    ("url", "rules"),
    [
        ("https://10.1.2.3/hook", AddressRules(production=True, allow_private=True)),
        ("http://127.0.0.1:8080/hook", DEVELOPMENT),
        ("https://93.184.215.14/hook", PRODUCTION),
    ],
)
def test_addresses_that_may_be_posted_to(url: str, rules: AddressRules) -> None:
    assert check_url(url, rules) == url


def test_a_production_tool_does_not_post_to_a_webhook_that_leads_inside(
    app: Flask, db: SQLAlchemy, registration: PlatformRegistration, receiver: FakeReceiver
) -> None:
    endpoints.add(db.session(), registration.id, receiver.hook_url, DEVELOPMENT)
    settings = replace(WebhookSettings.from_config(app.config), rules=PRODUCTION)

    result = WebhookChannel(db.session(), settings).send(outgoing(registration_id=registration.id))

    assert result.outcome == Outcome.FAILED
    assert (
        "The webhook's address is refused: The webhook address must use https://" in result.reason
    )
    assert receiver.posts == []
