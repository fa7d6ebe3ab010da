"""No duplicate follow-ups, none for events before a rule was switched on (unless a
backfill is asked for), and a dry run that shows what a rule would do without doing it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.mentoring import dryrun, rules, timeline
from lti_tool.mentoring.models import Delivery, Journey, JourneyStatus
from tests.mentoring.conftest import COMPLETED, FIXTURE, Tenant

PASSED = "http://adlnet.gov/expapi/verbs/passed"


def _count(db: SQLAlchemy, model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_same_statement_twice_gives_one_delivery_per_step(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    tenant.add_plan(db)
    tenant.later(db, hours=26)
    assert tenant.post(client).status_code == 200
    assert tenant.post(client).status_code == 200
    tenant.later(db)
    another = {**json.loads(FIXTURE.read_text()), "id": "b3c2e1f0-1b2c-4d3e-8f4a-5b6c7d8e9f02"}
    assert tenant.post(client, another).status_code == 200  # completed again: same journey
    tenant.later(db)
    tenant.later(db, days=40)
    assert _count(db, Journey) == 1
    assert _count(db, Delivery) == 3  # welcome, tip, question
    assert tenant.later(db) == 0  # dispatching again delivers nothing twice


def test_an_event_from_before_the_rule_sends_nothing_until_a_backfill(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    tenant.clock.at = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # after the statement happened
    rule = tenant.add_plan(db)
    assert tenant.post(client).status_code == 200
    assert tenant.later(db) == 0
    assert _count(db, Journey) == 0
    assert [p.step for p in dryrun.dry_run(db.session(), rule.id, since=tenant.clock.at.replace(
        day=1))] == ["welcome", "tip", "ask"]  # fmt: skip
    assert _count(db, Delivery) == 0  # the dry run wrote nothing
    assert rules.backfill(db.session(), rule.id) == 1
    db.session.commit()
    assert tenant.later(db) == 1
    assert tenant.feed_titles(db) == ["Welcome, Ana"]
    assert rules.backfill(db.session(), rule.id) == 0  # twice starts nothing more


def test_a_switched_off_rule_starts_nothing(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    rule = tenant.add_plan(db)
    rules.switch(db.session(), rule.id, False)
    db.session.commit()
    tenant.later(db, hours=26)
    tenant.post(client)
    assert tenant.later(db) == 0
    assert _count(db, Journey) == 0


def test_a_stop_rule_ends_the_journey_and_the_timeline_says_why(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    tenant.add_plan(db, rules=[
        {"kind": "event", "verb": COMPLETED, "completion": True},
        {"kind": "event", "action": "stop", "verb": PASSED, "name": "Course passed"},
    ])  # fmt: skip
    tenant.later(db, hours=26)
    tenant.post(client)
    tenant.later(db)
    passed = json.loads(FIXTURE.read_text())
    passed.update(id="c3c2e1f0-1b2c-4d3e-8f4a-5b6c7d8e9f02", verb={"id": PASSED})
    tenant.post(client, passed)
    tenant.later(db, hours=1)
    journey = db.session.scalars(select(Journey)).one()
    assert journey.status == JourneyStatus.STOPPED
    lines = timeline.timeline(db.session(), tenant.course_id, tenant.person_id)
    assert [(line.status, line.reason) for line in lines] == [
        ("started", journey.start_reason),
        ("delivered", "Delivered to your mentor panel."),
        ("stopped", "Stopped: the rule “Course passed” ended it."),
        ("skipped", "Not sent: the follow-up stopped because the rule “Course passed” ended it."),
        ("skipped", "Not sent: the follow-up stopped because the rule “Course passed” ended it."),
    ]
    assert journey.start_reason.startswith("Started by the rule “Active listening follow-up”")
