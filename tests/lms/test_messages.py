"""Mentor messages sent as Moodle or Canvas messages through the platform's LMS connection,
as a learner and an administrator meet them: the message arrives in the LMS signed with the
mentor's name; a learner the LMS cannot reach, or a platform with no connection, is
"unavailable"; a refusal is sorted into "later" and "for good" in words."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask_sqlalchemy import SQLAlchemy

from lti_tool.lms import connections
from lti_tool.lms.models import LmsKind
from lti_tool.lms.services import ReadSettings
from lti_tool.mentoring.channels.base import Outcome, Outgoing
from lti_tool.mentoring.channels.lms import LmsChannel
from tests.channels.messages import outgoing
from tests.factories import RegistrationFactory
from tests.lms.fake_canvas import TOKEN as CANVAS_TOKEN
from tests.lms.fake_canvas import FakeCanvas
from tests.lms.fake_moodle import TOKEN as MOODLE_TOKEN
from tests.lms.fake_moodle import FakeMoodle


def connected(db: SQLAlchemy, kind: LmsKind, url: str, token: str) -> int:
    """A registration whose LMS connection is the fake at ``url``; returns its id."""
    registration = RegistrationFactory()
    db.session.commit()
    new = connections.NewConnection(registration_id=registration.id, kind=kind, url=url,
                                    token=token)  # fmt: skip
    connections.add(db.session(), new, production=False)
    return int(registration.id)


def send(db: SQLAlchemy, message: Outgoing, timeout: float = 2.0) -> Any:
    settings = ReadSettings(timeout=timeout, production=False, sleep=lambda _seconds: None)
    return LmsChannel(db.session(), settings).send(message)


@pytest.fixture
def moodle(db: SQLAlchemy, fake_moodle: FakeMoodle) -> int:
    return connected(db, LmsKind.MOODLE, fake_moodle.url, MOODLE_TOKEN)


def test_a_moodle_learner_gets_the_message_in_moodle_signed_by_the_mentor(
    db: SQLAlchemy, fake_moodle: FakeMoodle, moodle: int
) -> None:
    result = send(db, outgoing(registration_id=moodle))

    assert result.outcome == Outcome.SENT
    [message] = fake_moodle.messages
    assert (message["touserid"], message["textformat"]) == ("3", "1")
    assert message["clientmsgid"] == "delivery-7"
    assert message["text"].startswith("<p><strong>Have you applied active listening?</strong></p>")
    assert "<b>active listening</b>" in message["text"]
    assert 'href="https://vm.example.org/a/not-yet?t=1"' in message["text"]
    assert "Maria Souza<br>Head of training" in message["text"]
    assert fake_moodle.calls[-1]["token"] == MOODLE_TOKEN
    assert "wstoken" not in fake_moodle.calls[-1]["query"]


def test_a_message_moodle_does_not_send_fails_for_good_in_its_words(
    db: SQLAlchemy, fake_moodle: FakeMoodle, moodle: int
) -> None:
    fake_moodle.unmessageable[3] = "The user has blocked messages from you."

    result = send(db, outgoing(registration_id=moodle))

    assert result.outcome == Outcome.FAILED
    assert (
        result.reason == "Moodle did not send the message: The user has blocked messages from you."
    )


def test_a_token_moodle_refuses_is_tried_again_once_an_administrator_fixes_it(
    db: SQLAlchemy, fake_moodle: FakeMoodle
) -> None:
    registration = connected(db, LmsKind.MOODLE, fake_moodle.url, "not-the-token")

    result = send(db, outgoing(registration_id=registration))

    assert result.outcome == Outcome.RETRY
    assert "Moodle did not accept the token" in result.reason
    assert "not-the-token" not in result.reason


def test_a_moodle_that_hangs_is_tried_later(
    db: SQLAlchemy, fake_moodle: FakeMoodle, moodle: int
) -> None:
    fake_moodle.hang = 5.0

    result = send(db, outgoing(registration_id=moodle), timeout=0.5)

    assert (result.outcome, result.reason) == (
        Outcome.RETRY, "Moodle did not answer within 0.5 s.")  # fmt: skip


def test_a_learner_without_a_moodle_user_id_is_not_reachable_this_way(
    db: SQLAlchemy, fake_moodle: FakeMoodle, moodle: int
) -> None:
    stranger = replace(outgoing().recipient, subject="a0b1-c2")

    result = send(db, outgoing(registration_id=moodle, recipient=stranger))

    assert result.outcome == Outcome.UNAVAILABLE
    assert fake_moodle.messages == []


def test_a_platform_without_an_lms_connection_is_not_reachable_this_way(db: SQLAlchemy) -> None:
    registration = RegistrationFactory()
    db.session.commit()

    result = send(db, outgoing(registration_id=registration.id))

    assert result.outcome == Outcome.UNAVAILABLE
    assert result.reason == (
        "The learner's platform has no LMS connection (flask --app wsgi lms add-connection)."
    )


@pytest.fixture
def canvas(db: SQLAlchemy, fake_canvas: FakeCanvas) -> int:
    return connected(db, LmsKind.CANVAS, fake_canvas.url, CANVAS_TOKEN)


def test_a_canvas_learner_gets_a_private_conversation(
    db: SQLAlchemy, fake_canvas: FakeCanvas, canvas: int
) -> None:
    result = send(db, outgoing(registration_id=canvas))

    assert result.outcome == Outcome.SENT
    [conversation] = fake_canvas.conversations
    assert conversation["recipients[]"] == ["501"]
    assert conversation["subject"] == ["Have you applied active listening?"]
    assert conversation["force_new"] == ["true"]
    assert conversation["group_conversation"] == ["false"]
    body = conversation["body"][0]
    assert "Have you tried active listening with a customer yet?" in body
    assert "- Yes: https://vm.example.org/a/yes?t=1" in body
    assert "Maria Souza\nHead of training" in body


def test_a_learner_whose_canvas_id_is_not_known_yet_is_not_reachable_this_way(
    db: SQLAlchemy, fake_canvas: FakeCanvas, canvas: int
) -> None:
    unknown = replace(outgoing().recipient, lms_user_id=None)

    result = send(db, outgoing(registration_id=canvas, recipient=unknown))

    assert result.outcome == Outcome.UNAVAILABLE
    assert "Canvas user id is not known yet" in result.reason


@pytest.mark.parametrize(
    ("token", "lms_user_id", "outcome", "reason"),
    [
        ("wrong-token", "501", Outcome.RETRY,
         "Canvas refused: HTTP 401, it did not accept the token."),
        (CANVAS_TOKEN, "x501", Outcome.FAILED,
         "Canvas refused: HTTP 400, it refused the request."),
    ],
)  # fmt: skip
def test_canvas_refusals_are_sorted_into_later_and_for_good(
    db: SQLAlchemy, fake_canvas: FakeCanvas, token: str, lms_user_id: str, outcome: Outcome,
    reason: str,
) -> None:  # fmt: skip
    registration = connected(db, LmsKind.CANVAS, fake_canvas.url, token)
    learner = replace(outgoing().recipient, lms_user_id=lms_user_id)

    result = send(db, outgoing(registration_id=registration, recipient=learner))

    assert (result.outcome, result.reason) == (outcome, reason)
