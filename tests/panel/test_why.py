""" "Why did I get this?": each message in the panel links to its reasons in words, for the
learner it was sent to only."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.mentoring import preferences
from lti_tool.mentoring.models import Journey
from tests.mentoring.conftest import Tenant
from tests.panel.helpers import bea, welcomed


def _why(client: FlaskClient, delivery_id: int, token: str) -> tuple[int, str]:
    answer = client.get(f"/panel/why/{delivery_id}", query_string={"lt": token})
    return answer.status_code, answer.get_data(as_text=True)


def test_each_message_links_to_why_it_came(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    welcome = welcomed(client, db, tenant)
    panel = client.get("/panel/", query_string={"lt": tenant.launch_token}).get_data(as_text=True)
    assert f'href="/panel/why/{welcome.id}?lt=' in panel
    assert panel.count(">Why did I get this?</a>") == 1

    status, page = _why(client, welcome.id, tenant.launch_token)
    assert status == 200
    assert "Why did I get “Welcome, Ana”?" in page
    assert "Active listening follow-up" in page
    start_reason = db.session.get_one(Journey, welcome.journey_id).start_reason
    assert start_reason
    assert start_reason in page
    assert "Delivered to your mentor panel." in page
    assert "10:00 (UTC)</time> · Delivered to your mentor panel." in page
    assert "You first saw it" in page  # the panel was opened above


def test_times_are_in_the_learners_zone_and_a_skipped_message_says_why(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    preferences.choose(db.session(), tenant.person_id, opted_out=["tip"], time_zone="Asia/Tokyo",
                       quiet_start="00:00", quiet_end="00:00")  # fmt: skip
    db.session.commit()
    welcomed(client, db, tenant)
    tenant.later(db, days=1)
    tip = tenant.deliveries(db)[1]
    status, page = _why(client, tip.id, tenant.launch_token)
    assert status == 200
    assert "Not sent: you opted out of tip messages." in page
    assert "2026-11-21 19:00 (Asia/Tokyo)" in page  # due a day after 10:00 UTC
    assert "You first saw it" not in page


def test_another_learners_message_is_not_found(
    app: Flask, client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    welcome = welcomed(client, db, tenant)
    status, page = _why(client, welcome.id, bea(app, db, tenant))
    assert status == 404
    assert "Welcome" not in page
    assert _why(client, welcome.id + 1000, tenant.launch_token)[0] == 404


def test_without_a_launch_nothing_is_shown(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    welcome = welcomed(client, db, tenant)
    status, page = _why(client, welcome.id, "")
    assert status == 401
    assert "This page needs a launch from your course." in page
