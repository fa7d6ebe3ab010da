"""Emitting a statement is part of what it tells of: written in the same transaction, sent for
delivery only once that commits, once however often it is emitted; and the administrator
sees the outbox and the LRSs it goes to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from tests.factories import CourseFactory, DeploymentFactory, PersonFactory, RegistrationFactory
from tests.xapi.fake_lrs import PASSWORD, USERNAME, FakeLrs
from tests.xapi.test_outbox_delivery import SETTINGS
from xapi import builders, delivery, outbox, pull
from xapi.builders import Scene
from xapi.models import OutboxStatement

AT = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


@pytest.fixture
def scene(db: SQLAlchemy) -> Scene:
    """A learner in a course."""
    registration = RegistrationFactory()
    course = CourseFactory(deployment=DeploymentFactory(registration=registration))
    learner = PersonFactory(registration=registration)
    db.session.commit()
    return Scene.of("https://mentor.example.org", registration, learner, course)


def asked(scene: Scene, question: int = 1) -> dict[str, object]:
    return builders.asked_question(scene, question_id=question, text="Which form?", at=AT)


def count(db: SQLAlchemy) -> int:
    return int(db.session.scalar(select(func.count()).select_from(OutboxStatement)) or 0)


def test_a_statement_is_written_with_its_happening_and_delivery_is_sent_after_commit(
    db: SQLAlchemy, scene: Scene, broker: Callable[[], list[object]]
) -> None:
    assert outbox.emit(db.session(), scene.registration_id, asked(scene, 1)) is True
    assert outbox.emit(db.session(), scene.registration_id, asked(scene, 2)) is True
    assert broker() == []  # not before the commit
    db.session.commit()
    assert broker() == ["xapi.deliver_outbox", [scene.registration_id]]  # once per commit
    row = db.session.scalars(select(OutboxStatement).order_by(OutboxStatement.id)).first()
    assert row is not None
    assert (row.statement_id, row.kind, row.attempts) == (asked(scene, 1)["id"], "asked", 0)
    assert row.next_attempt_at == row.created_at


def test_the_same_happening_emitted_again_is_one_row(
    db: SQLAlchemy, scene: Scene, broker: Callable[[], list[object]]
) -> None:
    outbox.emit(db.session(), scene.registration_id, asked(scene))
    db.session.commit()
    assert outbox.emit(db.session(), scene.registration_id, asked(scene)) is False
    db.session.commit()
    assert count(db) == 1


def test_a_rolled_back_happening_leaves_no_statement_and_no_task(
    db: SQLAlchemy, scene: Scene, broker: Callable[[], list[object]]
) -> None:
    outbox.emit(db.session(), scene.registration_id, asked(scene))
    db.session.rollback()
    db.session.commit()
    assert count(db) == 0
    assert broker() == []


def test_the_tool_url_is_the_setting_else_the_requests_address(
    make_app: Callable[..., Flask],
) -> None:
    configured = make_app(XAPI_TOOL_URL="https://mentor.example.org/")
    with configured.test_request_context(base_url="http://10.0.0.5:8000"):
        assert outbox.tool_url() == "https://mentor.example.org"
    plain = make_app()
    with plain.test_request_context(base_url="https://mentor.acme.example"):
        assert outbox.tool_url() == "https://mentor.acme.example"
    with plain.app_context(), pytest.raises(RuntimeError, match="Set VM_XAPI_TOOL_URL"):
        outbox.tool_url()


def add_lrs(runner: FlaskCliRunner, registration: int, url: str, *flags: str) -> str:
    """``xapi add-lrs``, typing the password at the hidden prompt; its output."""
    result = runner.invoke(args=[
        "xapi", "add-lrs", "--registration", str(registration), "--name", "ACME LRS",
        "--endpoint", f"{url}/xapi", "--username", USERNAME, *flags,
    ], input=f"{PASSWORD}\n")  # fmt: skip
    return str(result.output)


def test_an_administrator_sends_to_one_lrs_and_sees_the_outbox(
    runner: FlaskCliRunner, db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs
) -> None:
    assert "The outbox is empty" in runner.invoke(args=["xapi", "outbox"]).output
    for question in (1, 2):
        outbox.emit(db.session(), scene.registration_id, asked(scene, question))
    db.session.commit()
    waiting = runner.invoke(args=["xapi", "outbox"]).output
    assert f"registration #{scene.registration_id}: 2 waiting, the oldest since" in waiting
    assert "no LRS to send to: they wait for one (xapi add-lrs --send)" in waiting
    added = add_lrs(runner, scene.registration_id, fake_lrs.url, "--send", "--read")
    assert "its first poll is queued and the registration's statements go to it" in added
    again = add_lrs(runner, scene.registration_id, fake_lrs.url, "--send")
    assert f"Registration #{scene.registration_id} already sends its statements to LRS" in again
    fake_lrs.next_answers.append((503, "{}", {}))
    delivery.deliver(db.session(), scene.registration_id, SETTINGS)
    failing = runner.invoke(args=["xapi", "outbox"]).output
    assert "failing: The LRS had an error of its own (HTTP 503)." in failing
    assert "last error: The LRS had an error of its own (HTTP 503)." in failing
    listed = runner.invoke(args=["xapi", "list-lrs"]).output
    assert "both, user vm-reader" in listed
    assert "    sent: failing: The LRS had an error of its own (HTTP 503)." in listed
    assert "    read: queued" in listed
    assert PASSWORD not in added + again + failing + listed


def test_given_up_statements_are_listed_with_the_reason(
    runner: FlaskCliRunner, db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs
) -> None:
    add_lrs(runner, scene.registration_id, fake_lrs.url, "--send")
    statement = asked(scene)
    fake_lrs.received[str(statement["id"])] = {"id": statement["id"]}
    outbox.emit(db.session(), scene.registration_id, statement)
    db.session.commit()
    delivery.deliver(db.session(), scene.registration_id, SETTINGS)
    shown = runner.invoke(args=["xapi", "outbox"]).output
    assert "0 waiting, 0 delivered, 1 given up on" in shown
    assert f"given up on {statement['id']} (asked, registration #{scene.registration_id}): " \
           "The LRS holds a different statement under this id (HTTP 409)" in shown  # fmt: skip


def test_an_lrs_only_sent_to_is_never_polled_and_takes_no_filters(
    runner: FlaskCliRunner, db: SQLAlchemy, scene: Scene, fake_lrs: FakeLrs
) -> None:
    assert "go to it from now on" in add_lrs(runner, scene.registration_id, fake_lrs.url, "--send")
    refused = add_lrs(runner, RegistrationFactory().id, fake_lrs.url, "--send", "--verb",
                      "http://adlnet.gov/expapi/verbs/completed")  # fmt: skip
    assert "Filters and --since choose what is read; this LRS is only sent to." in refused
    assert pull.queue_due(db.session()) == []
    listed = runner.invoke(args=["xapi", "list-lrs"]).output
    assert "send, user vm-reader" in listed
    assert "read:" not in listed
    assert "sent: sending: nothing delivered yet" in listed
    assert fake_lrs.requests == []
