"""Quiet hours in the learner's zone, opt-outs and the daily cap hold messages back, and
each says why; a failing channel never holds back the panel copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.mentoring import outgoing, preferences
from lti_tool.mentoring.models import DeliveryStatus
from tests.helpers.smtp import Mailbox, free_port
from tests.mentoring.conftest import Tenant


def _started(client: FlaskClient, db: SQLAlchemy, tenant: Tenant, hour: int) -> int:
    tenant.add_plan(db)
    tenant.clock.at = datetime(2026, 11, 20, hour, 0, tzinfo=UTC)
    tenant.post(client)
    return tenant.later(db)


def test_quiet_hours_in_the_learners_zone_defer_and_say_so(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    preferences.choose(db.session(), tenant.person_id, time_zone="Asia/Tokyo")
    db.session.commit()
    assert _started(client, db, tenant, 13) == 0  # 22:00 in Tokyo
    welcome = tenant.deliveries(db)[0]
    assert welcome.status == DeliveryStatus.HELD
    assert (
        welcome.reason == "Held until 2026-11-21 08:00: quiet hours (21:00 to 08:00, Asia/Tokyo)."
    )
    assert welcome.due_at == datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    assert tenant.later(db, hours=9, minutes=59) == 0
    assert tenant.later(db, minutes=1) == 1
    assert tenant.feed_titles(db) == ["Welcome, Ana"]


def test_an_opted_out_kind_is_skipped_with_its_reason(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    preferences.choose(db.session(), tenant.person_id, opted_out=["tip"])
    db.session.commit()
    _started(client, db, tenant, 10)
    tenant.later(db, days=1)
    tip = tenant.deliveries(db)[1]
    assert (tip.status, tip.reason) == (
        DeliveryStatus.SKIPPED,
        "Not sent: you opted out of tip messages.",
    )
    assert tenant.feed_titles(db) == ["Welcome, Ana"]


def test_the_daily_cap_holds_the_rest_until_the_learners_next_day(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    preferences.choose(db.session(), tenant.person_id, daily_cap=1)
    db.session.commit()
    tenant.add_plan(db, steps=[
        {"key": "a", "offset_days": 0, "message": {"kind": "tip", "title": "A"}},
        {"key": "b", "offset_days": 0, "message": {"kind": "tip", "title": "B"}},
    ])  # fmt: skip
    tenant.clock.at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    tenant.post(client)
    assert tenant.later(db) == 1
    held = tenant.deliveries(db)[1]
    assert (held.status, held.reason) == (
        DeliveryStatus.HELD,
        "Held until 2026-11-21 00:00: you get at most 1 message a day.",
    )
    assert tenant.later(db, hours=14) == 0  # midnight is in quiet hours: held again till 08:00
    assert "quiet hours" in tenant.deliveries(db)[1].reason
    assert tenant.later(db, hours=8) == 1


def test_email_copies_go_after_commit_and_a_down_server_changes_nothing_in_the_panel(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, broker: Any, smtp_on: Mailbox,
    app: Flask, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    port = app.config["SMTP_PORT"]
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # the server is away at first
    assert _started(client, db, tenant, 10) == 1
    welcome = tenant.deliveries(db)[0]
    assert ("mentoring.send_copies", ["email", [welcome.id], 1]) in _sent(broker)  # after commit
    assert outgoing.send_copies(db.session(), "email", [welcome.id], 1) == 0
    assert _sent(broker) == [("mentoring.send_copies", ["email", [welcome.id], 2])]  # again later
    assert tenant.feed_titles(db) == ["Welcome, Ana"]  # the panel copy stands
    monkeypatch.setitem(app.config, "SMTP_PORT", port)  # back
    assert outgoing.send_copies(db.session(), "email", [welcome.id], 2) == 0  # not due yet
    tenant.clock.advance(timedelta(seconds=61))
    assert outgoing.send_copies(db.session(), "email", [welcome.id], 2) == 1
    [message] = smtp_on.messages()
    assert message["Subject"] == "Welcome, Ana"
    assert "via Virtual Mentor" in message["From"]
    # A Moodle course's page (its mentor tab) is linked: https://moodle.example.org, course 2.
    assert (
        "https://moodle.example.org/course/view.php?id=2"
        in message.get_body(("plain",)).get_content()
    )
    # A task delivered twice (a worker that died, a sweep) sends nothing twice.
    assert outgoing.send_copies(db.session(), "email", [welcome.id], 1) == 0
    assert len(smtp_on.messages()) == 1


def test_an_email_unsubscribes_its_learner_in_one_click_and_the_panel_keeps_everything(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, broker: Any, smtp_on: Mailbox,
) -> None:  # fmt: skip
    assert _started(client, db, tenant, 10) == 1
    welcome = tenant.deliveries(db)[0]
    broker()
    outgoing.send_copies(db.session(), "email", [welcome.id], 1)
    [message] = smtp_on.messages()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(message["List-Unsubscribe"]).strip().strip("<>")
    path = url.removeprefix("https://mentor.example.org")
    assert path.startswith("/mentoring/u/")
    assert "Stop getting your mentor" in client.get(path).get_data(as_text=True)  # GET asks
    assert preferences.policies(db.session(), [tenant.person_id], client.application.config)[
        tenant.person_id
    ].channels == frozenset({"email"})
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert answer.status_code == 200
    assert "no more emails" in answer.get_data(as_text=True)
    policy = preferences.policies(db.session(), [tenant.person_id], client.application.config)
    assert "email" not in policy[tenant.person_id].channels
    tampered = client.post(path[:-3] + "xyz")
    assert tampered.status_code == 400
    assert "was changed" in tampered.get_data(as_text=True)
    assert tenant.feed_titles(db) == ["Welcome, Ana"]


def _sent(broker: Any) -> list[tuple[str, Any]]:
    """What reached the broker, as (task, arguments) pairs (wake-ups may come along)."""
    flat = broker()
    return list(zip(flat[::2], flat[1::2], strict=True))
