"""The retry policy (pure), the registry the dispatcher finds channels in, and the channel
settings an administrator can get wrong."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool.mentoring.channels.base import (
    Channel,
    ChannelRegistry,
    Outcome,
    Outgoing,
    RetryPolicy,
    SendResult,
)
from lti_tool.mentoring.channels.registry import build_registry
from lti_tool.settings import ConfigError, load_settings, validate
from tests.channels.messages import outgoing

EXACT = RetryPolicy(first_seconds=60, max_seconds=3600, max_attempts=5, jitter=0.0)


@pytest.mark.parametrize(
    ("attempts", "result", "wait"),
    [
        (1, SendResult.retry("busy"), 60),
        (2, SendResult.retry("busy"), 120),
        (4, SendResult.retry("busy"), 480),
        (5, SendResult.retry("busy"), None),  # out of tries
        (1, SendResult.retry("busy", after=300), 300),  # the server asked
        (1, SendResult.retry("busy", after=99999), 3600),  # never over the cap
        (1, SendResult.retry("busy", after=0), 1),  # never under a second
        (1, SendResult.sent(), None),
        (1, SendResult.failed("no such user"), None),
        (1, SendResult.unavailable("no address"), None),
    ],
)
def test_the_next_wait(attempts: int, result: SendResult, wait: float | None) -> None:
    assert EXACT.next_wait(attempts, result) == wait


@pytest.mark.parametrize("attempts", [2, 3, 4])
def test_jitter_only_shortens_a_wait_by_at_most_half_and_never_below_the_first(
    attempts: int,
) -> None:
    policy = RetryPolicy(first_seconds=60, max_seconds=3600, max_attempts=9, jitter=0.5)
    exact = EXACT.next_wait(attempts, SendResult.retry("busy"))
    assert exact is not None
    waits = {policy.next_wait(attempts, SendResult.retry("busy")) for _ in range(200)}

    assert all(w is not None and max(exact / 2, 60) <= w <= exact for w in waits)
    assert len(waits) > 1


def test_the_policy_comes_from_the_settings() -> None:
    settings = load_settings(environ={"VM_CHANNELS_MAX_ATTEMPTS": "3"})

    policy = RetryPolicy.from_config(settings)

    assert (policy.first_seconds, policy.max_seconds, policy.max_attempts) == (60, 21600, 3)


class _Echo(Channel):
    name = "echo"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, outgoing: Outgoing) -> SendResult:
        self.sent.append(outgoing.delivery_id)
        return SendResult.sent()


def test_the_registry_finds_channels_by_name_and_refuses_a_second_of_a_name() -> None:
    registry = ChannelRegistry()
    echo = _Echo()
    registry.register(echo)

    assert registry.get("echo") is echo
    assert registry.get("fax") is None
    assert registry.names() == ["echo"]
    assert list(registry) == [echo]
    with pytest.raises(ValueError, match="'echo' is registered already"):
        registry.register(_Echo())


def test_a_channel_without_a_batch_of_its_own_sends_a_batch_one_by_one() -> None:
    echo = _Echo()
    batch: Sequence[Outgoing] = [outgoing(1), outgoing(2)]

    results = echo.send_many(batch)

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert echo.sent == [1, 2]


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"VM_SMTP_SECURITY": "tls"}, "VM_SMTP_SECURITY must be none, starttls or ssl."),
        ({"VM_SMTP_HOST": "smtp.example.org"}, "VM_SMTP_FROM is not an email address"),
        (
            {"VM_ENV": "production", "VM_SMTP_HOST": "smtp.example.org", "VM_SMTP_FROM":
             "m@example.org", "VM_SMTP_USERNAME": "vm", "VM_SMTP_SECURITY": "none",
             "VM_XAPI_TOOL_URL": "https://mentor.example.org"},
            "the password would travel in clear",
        ),
    ],
)  # fmt: skip
def test_smtp_settings_that_cannot_work_stop_the_start(
    environ: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        validate(load_settings(environ=environ))


def test_the_registry_of_an_app_has_email_only_where_an_smtp_server_is_set(
    make_app: Callable[..., Flask], db: SQLAlchemy
) -> None:
    plain = make_app()
    mailing = make_app(SMTP_HOST="127.0.0.1", SMTP_FROM="mentor@vm.example.org")

    assert build_registry(plain.config, db.session()).names() == ["lms", "webhook"]
    assert build_registry(mailing.config, db.session()).names() == ["email", "lms", "webhook"]
