"""An SMTP server that hangs, resets connections or answers with errors: the email copy waits
(its timeout holds, the wait doubles), the panel copy stands, and once the server is back the
copy goes once, by the sweep alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lti_tool.mentoring import copies, outgoing
from lti_tool.mentoring.channels.models import ChannelCopy, CopyStatus
from tests.helpers.faulty import HANG, PASS, RESET, FaultyProxy, faulty_proxy
from tests.helpers.smtp import Mailbox, smtp_server
from tests.mentoring.conftest import Tenant

TIMEOUT = 0.5


@pytest.fixture
def mailbox() -> Mailbox:
    """What the SMTP server received."""
    return Mailbox()


@pytest.fixture
def proxy(app: Flask, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    """The app's SMTP server, behind a proxy that can hang or reset connections."""
    with smtp_server(mailbox) as (_host, port), faulty_proxy(port) as proxy:
        for name, value in {
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": proxy.port, "SMTP_SECURITY": "none",
            "SMTP_FROM": "mentor@vm.example.org", "SMTP_TIMEOUT_SECONDS": TIMEOUT,
        }.items():  # fmt: skip
            monkeypatch.setitem(app.config, name, value)
        yield proxy


def _hang_greeting(proxy: FaultyProxy, mailbox: Mailbox) -> None:
    proxy.mode = HANG


def _reset(proxy: FaultyProxy, mailbox: Mailbox) -> None:
    proxy.mode = RESET


def _busy(proxy: FaultyProxy, mailbox: Mailbox) -> None:
    mailbox.data_reply = "451 4.3.0 Mail server temporarily rejected message"


def _closing(proxy: FaultyProxy, mailbox: Mailbox) -> None:
    mailbox.data_reply = "421 4.3.2 Service shutting down"


def _down(proxy: FaultyProxy, mailbox: Mailbox) -> None:
    proxy.stop()


FAILURES: dict[str, tuple[Callable[[FaultyProxy, Mailbox], None], str]] = {
    "hangs before greeting": (_hang_greeting, "could not be reached (no answer in time)"),
    "resets connections": (_reset, "could not be reached"),
    "answers 451 to the message": (_busy, "refused the message: 451"),
    "answers 421 to the message": (_closing, "421 4.3.2 Service shutting down"),
    "is down": (_down, "could not be reached (connection refused)"),
}


def _recover(proxy: FaultyProxy, mailbox: Mailbox) -> None:
    if proxy._listener is None:
        proxy.start()
    proxy.mode = PASS
    proxy.release()
    mailbox.data_reply = None


def _copy(db: SQLAlchemy) -> ChannelCopy:
    db.session.expire_all()
    return db.session.scalars(select(ChannelCopy)).one()


def _welcomed(client: FlaskClient, db: SQLAlchemy, tenant: Tenant) -> int:
    tenant.add_plan(db)
    tenant.clock.at = tenant.clock.at.replace(day=20, hour=10)
    tenant.post(client)
    assert tenant.later(db) == 1
    return tenant.deliveries(db)[0].id


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failing_smtp_server_delays_the_email_and_it_goes_once_when_back(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, proxy: FaultyProxy, mailbox: Mailbox,
    broker: Any, failure: str,
) -> None:  # fmt: skip
    welcome = _welcomed(client, db, tenant)
    broker()
    fail, words = FAILURES[failure]
    fail(proxy, mailbox)
    waits = []
    for _ in range(2):
        started = time.monotonic()
        assert outgoing.send_copies(db.session(), "email", [welcome], 1) == 0
        assert time.monotonic() - started < 4 * TIMEOUT  # the timeout holds
        copy = _copy(db)
        assert copy.status == CopyStatus.WAITING
        assert words in copy.reason
        waits.append((copy.next_attempt_at - tenant.clock.now()).total_seconds())
        assert outgoing.send_due(db.session()) == 0  # not due before its wait is over
        tenant.clock.advance(timedelta(seconds=waits[-1]))
    assert 30 <= waits[0] <= 60 <= waits[1] <= 120  # doubling, with jitter
    assert tenant.feed_titles(db) == ["Welcome, Ana"]  # the panel copy stands
    _recover(proxy, mailbox)
    broker()
    assert outgoing.send_due(db.session()) == 1  # the sweep finds it ...
    [(task, args)] = _tasks(broker())
    assert (task, args[:2]) == ("mentoring.send_copies", ["email", [welcome]])
    assert outgoing.send_copies(db.session(), *args) == 1  # ... and its task sends it
    assert outgoing.send_copies(db.session(), *args) == 0  # a second run sends nothing
    assert outgoing.send_due(db.session()) == 0
    assert len(mailbox.messages()) == 1
    assert mailbox.messages()[0]["Message-ID"].startswith(f"<vm-delivery-{welcome}@")
    copy = _copy(db)
    assert (copy.status, copy.attempts, copy.sent_at) == (CopyStatus.SENT, 3, tenant.clock.now())


def test_a_server_that_hangs_on_the_message_gets_it_once_when_back(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, proxy: FaultyProxy, mailbox: Mailbox,
) -> None:  # fmt: skip
    welcome = _welcomed(client, db, tenant)
    mailbox.hang = 4 * TIMEOUT  # silent after DATA, longer than the timeout
    started = time.monotonic()
    assert outgoing.send_copies(db.session(), "email", [welcome], 1) == 0
    assert time.monotonic() - started < 4 * TIMEOUT  # the timeout holds
    assert "stopped answering (no answer in time)" in _copy(db).reason
    mailbox.hang = 0
    tenant.clock.advance(timedelta(seconds=61))
    assert outgoing.send_copies(db.session(), "email", [welcome], 2) == 1
    assert len(mailbox.messages()) == 1  # the server dropped the first with its connection


def test_a_permanent_refusal_fails_the_copy_for_good_in_words_and_is_not_retried(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, proxy: FaultyProxy, mailbox: Mailbox,
) -> None:  # fmt: skip
    welcome = _welcomed(client, db, tenant)
    mailbox.data_reply = "554 5.7.1 Message rejected as spam"
    assert outgoing.send_copies(db.session(), "email", [welcome], 1) == 0
    copy = _copy(db)
    assert copy.status == CopyStatus.FAILED
    assert copy.reason == "The SMTP server refused the message: 554 5.7.1 Message rejected as spam"
    mailbox.data_reply = None
    tenant.clock.advance(timedelta(days=1))
    assert outgoing.send_due(db.session()) == 0
    assert mailbox.messages() == []


def _tasks(bodies: list[object]) -> list[tuple[object, Any]]:
    return list(zip(bodies[::2], bodies[1::2], strict=True))


def test_a_database_restarting_as_an_email_goes_out_is_waited_out_not_sent_twice(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, proxy: FaultyProxy, mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    welcome = _welcomed(client, db, tenant)
    record, tries = copies.mark, []

    def restarting(*args: Any) -> None:
        tries.append(args[2])
        if len(tries) < 3:  # the server took the email; the database is away for a moment
            raise OperationalError("UPDATE mentoring_copies", {}, ConnectionError("closed"))
        record(*args)

    monkeypatch.setattr(copies, "mark", restarting)
    assert outgoing.send_copies(db.session(), "email", [welcome], 1) == 1
    assert tries == [welcome] * 3
    assert _copy(db).status == CopyStatus.SENT
    tenant.clock.advance(timedelta(hours=1))
    assert outgoing.send_due(db.session()) == 0  # nothing left to send again
    assert len(mailbox.messages()) == 1


def test_beat_sweeps_the_copies_and_the_hand_off_as_often_as_set(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["send-due-copies"] == {"task": "mentoring.send_due_copies", "schedule": 60}
    assert schedule["hand-off-events"] == {"task": "events.hand_off", "schedule": 30}
