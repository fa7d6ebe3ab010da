"""The issue's acceptance flow on the real endpoints and services: a Moodle module completion
for a topic starts its sequence; each step reaches the panel at its offset; "not yet" sends
the resource and asks again; "yes" (by a signed email link) stops the journey."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.errors import NotFound
from lti_tool.mentoring import answers, links
from lti_tool.mentoring.models import DeliveryStatus, Journey, JourneyStatus
from tests.mentoring.conftest import Tenant
from xapi.models import OutboxStatement


def test_a_module_completion_runs_the_topics_sequence_to_its_end(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    tenant.add_plan(db)
    assert tenant.later(db, hours=26) == 0  # 2026-11-20 10:00: nothing posted yet
    assert tenant.post(client).status_code == 200
    assert tenant.later(db) == 1  # handed off: the welcome is due at once
    assert tenant.feed_titles(db) == ["Welcome, Ana"]
    assert tenant.later(db, hours=23) == 0
    assert tenant.later(db, hours=1) == 1  # +1 day: the tip
    assert tenant.feed_titles(db)[0] == "A tip on Active listening"
    assert tenant.later(db, days=5, hours=23) == 0
    assert tenant.later(db, hours=1) == 1  # +7 days: the question
    question = tenant.deliveries(db)[2]
    assert tenant.feed_titles(db)[0] == "Have you applied Active listening?"

    recorded = answers.record(db.session(), question.id, "not_yet", via="panel")
    db.session.commit()
    assert recorded.new
    assert tenant.later(db) == 1  # the resource, at once
    assert tenant.feed_titles(db)[0] == "Watch: listening in practice"
    assert tenant.later(db, days=6, hours=23) == 0
    assert tenant.later(db, hours=1) == 1  # asked again 7 days later
    again = tenant.deliveries(db)[-1]
    assert (again.step_id, again.round) == (question.step_id, 1)

    token = links.sign(again.id, "yes")
    page = client.get(f"/mentoring/a/{token}")
    assert page.status_code == 200
    assert "Yes, send “Yes”" in page.text  # a GET records nothing (mail scanners fetch links)
    assert client.post(f"/mentoring/a/{token}").status_code == 200
    journey = db.session.scalars(select(Journey)).one()
    assert journey.status == JourneyStatus.STOPPED
    assert journey.stop_reason == "Stopped: you answered “Yes”."
    assert tenant.later(db, days=60) == 0
    statuses = [d.status for d in tenant.deliveries(db)]
    assert statuses == [DeliveryStatus.DELIVERED] * 5  # welcome, tip, ask, resource, ask
    kinds = db.session.scalars(select(OutboxStatement.kind)).all()
    assert kinds == ["answered", "answered"]  # each answer went out as xAPI


def test_the_panel_shows_messages_newest_first_and_answers_in_one_click(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    tenant.add_plan(db)
    tenant.later(db, hours=26)
    tenant.post(client)
    tenant.later(db)
    tenant.later(db, days=7)  # the tip and the question
    page = client.get("/panel/", query_string={"lt": tenant.launch_token})
    assert page.status_code == 200
    text = page.text
    assert text.index("Have you applied") < text.index("A tip on") < text.index("Welcome, Ana")
    assert text.count(">New</span>") == 3
    assert "<strong>Active listening</strong>" in text  # the welcome's markdown
    question = tenant.deliveries(db)[2]
    answered = client.post(
        f"/panel/answer/{question.id}",
        data={"lt": tenant.launch_token, "answer": "help", "text": "Stuck"},
    )
    assert answered.status_code == 303
    again = client.get("/panel/", query_string={"lt": tenant.launch_token}).text
    assert ">New</span>" not in again  # read on the first visit
    assert "Your answer: I need help" in again


def test_only_the_learner_may_answer_in_the_panel(
    db: SQLAlchemy, tenant: Tenant, client: FlaskClient
) -> None:
    tenant.add_plan(db)
    tenant.later(db, hours=26)
    tenant.post(client)
    tenant.later(db, days=7)
    question = tenant.deliveries(db)[2]
    with pytest.raises(NotFound):
        answers.record(db.session(), question.id, "yes", via="panel", person_id=999_999)
    with pytest.raises(answers.NotAnAnswer):
        answers.record(db.session(), question.id, "maybe", via="panel")
