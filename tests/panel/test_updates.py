"""The panel's news for polling: unread messages, the newest one and unread thread replies,
only the learner's own; and the heading counts what is new."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool import clock
from lti_tool.threads import services
from tests.mentoring.conftest import Tenant
from tests.panel.helpers import bea, welcomed


def _news(client: FlaskClient, token: str) -> Any:
    answer = client.get("/panel/updates.json", query_string={"lt": token})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_json()


def _panel(client: FlaskClient, tenant: Tenant) -> str:
    return client.get("/panel/", query_string={"lt": tenant.launch_token}).get_data(as_text=True)


def test_nothing_yet(client: FlaskClient, db: SQLAlchemy, tenant: Tenant) -> None:
    assert _news(client, tenant.launch_token) == {"unread": 0, "latest": None, "threads_unread": 0}
    assert " new</span>" not in _panel(client, tenant)
    assert "Nothing new since your last visit." in _panel(client, tenant)


def test_a_new_message_is_counted_until_the_panel_shows_it(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    welcome = welcomed(client, db, tenant)
    expected = {"unread": 1, "latest": welcome.id, "threads_unread": 0}
    assert _news(client, tenant.launch_token) == expected
    assert _news(client, tenant.launch_token) == expected  # asking marks nothing read
    panel = _panel(client, tenant)
    assert '<span class="badge">1 new</span></h2>' in panel
    assert '<a href="#messages">1 new message from your mentor</a>' in panel
    assert f'data-latest="{welcome.id}"' in panel
    assert 'data-updates="/panel/updates.json?lt=' in panel
    assert _news(client, tenant.launch_token)["unread"] == 0
    assert " new</span>" not in _panel(client, tenant)

    tenant.later(db, days=1)  # the tip
    tip = tenant.deliveries(db)[1]
    assert _news(client, tenant.launch_token) == {"unread": 1, "latest": tip.id,
                                                  "threads_unread": 0}  # fmt: skip


def test_unread_thread_replies_are_counted(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    thread = services.ask(db.session(), tenant.course_id, tenant.person_id, "Where is week 2?")
    thread.learner_unread_at = clock.now()  # as a mentor's reply leaves it
    db.session.commit()
    assert _news(client, tenant.launch_token)["threads_unread"] == 1
    assert "1 new reply to your questions</a>" in _panel(client, tenant)


def test_another_learner_sees_only_her_own_news(
    app: Flask, client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    welcomed(client, db, tenant)
    assert _news(client, bea(app, db, tenant)) == {"unread": 0, "latest": None,
                                                   "threads_unread": 0}  # fmt: skip


def test_without_a_launch_the_answer_is_the_launch_error(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    answer = client.get("/panel/updates.json", headers={"Accept": "application/json"})
    assert answer.status_code == 401
    assert answer.get_json()["message"] == (
        "This page needs a launch from your course. Open Virtual Mentor from your course."
    )
