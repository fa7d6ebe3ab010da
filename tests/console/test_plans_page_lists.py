"""The Plans page lists follow-up plans only: the invitations and reminders the Sessions page
makes (sequences of one message each) are kept off it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.mentoring import plans
from lti_tool.mentoring.models import Sequence
from tests.console import seed_roster
from tests.console.seed_roster import Seeded
from tests.console.test_sessions_new import _post, _remind

seeded = seed_roster.seeded  # the fixture, for the tests here


def test_sessions_and_reminders_stay_off_the_plans_page(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    plans.store(db.session(), seeded.registration_id, {"name": "Listening follow-up", "steps": [
        {"key": "tip", "offset_days": 0, "message": {"kind": "tip", "title": "Listen",
                                                      "body": "First."}}]},
                seeded.course.id)  # fmt: skip
    db.session.commit()
    assert _post(client, app, seeded).status_code == 303
    assert _remind(client, app, seeded, seeded.session).status_code == 303
    purposes = dict(db.session.execute(select(Sequence.name, Sequence.purpose)).all())
    assert purposes["Listening follow-up"] == "plan"
    assert purposes["Session: Week 2 check-in"] == "session"
    assert "reminder" in purposes.values()
    page = client.get("/console/plans", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert page.status_code == 200
    assert "Listening follow-up" in page.text
    assert "Week 2 check-in" not in page.text
    assert "Reminder of session" not in page.text
