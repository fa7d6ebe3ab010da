"""The console's sessions: time in the mentor's zone, places, RSVP lists, attendance."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Person, Role
from lti_tool.mentoring.models import Rsvp
from tests.console import seed_roster
from tests.console.seed_roster import Seeded

seeded = seed_roster.seeded  # the fixture, for the tests here


def _attended(db: SQLAlchemy, seeded: Seeded) -> set[int]:
    return set(db.session.scalars(select(Rsvp.person_id).where(
        Rsvp.message_id == seeded.session, Rsvp.attended_at.is_not(None))))  # fmt: skip


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_sessions_show_time_places_and_rsvp_lists(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    db.session.get_one(Person, seeded.mentor).time_zone = "America/New_York"
    db.session.commit()
    page = client.get("/console/sessions", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert page.status_code == 200
    text = _text(page.text)
    assert "Tuesday 1 December 2026, 08:00\u201309:00 (America/New_York)" in text
    assert "2 of 2 places taken" in text
    assert "Going (2) Ana Lima, Dan Eze" in text
    assert "Maybe (1) Cleo Diaz" in text
    assert "Not going (0) Nobody" in text
    assert "Waiting list (1) Ben Cole" in text
    assert "Elsewhere" not in text  # the other course's session


def test_without_a_zone_the_sessions_own_is_used(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    page = client.get("/console/sessions", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert "14:00\u201315:00 (Europe/Paris)" in page.text


def test_recording_attendance_marks_the_ticked_learners(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    ticked = [str(seeded.ana), str(seeded.cleo)]
    answer = client.post(f"/console/sessions/{seeded.session}/attendance",
                         data={"lt": token, "person_id": ticked})  # fmt: skip
    assert answer.status_code == 303
    assert answer.location.endswith(f"#s{seeded.session}")
    assert _attended(db, seeded) == {seeded.ana, seeded.cleo}
    page = client.get("/console/sessions", query_string={"lt": token}).text
    assert "Ana Lima (recorded as present)" in page
    assert "Dan Eze (recorded as present)" not in page


def test_bad_attendance_forms_are_400s_and_record_nothing(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    url = f"/console/sessions/{seeded.session}/attendance"
    cases = {(): "Tick at least one learner", ("x",): "by number only",
             (str(seeded.stranger),): "Only learners of this course",
             (str(seeded.ana), str(seeded.mentor)): "Only learners of this course"}  # fmt: skip
    for given, words in cases.items():
        answer = client.post(url, data={"lt": token, "person_id": list(given)})
        assert answer.status_code == 400, given
        assert words in answer.text
    assert _attended(db, seeded) == set()


def test_another_courses_session_is_not_found(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    token = seeded.token(app, seeded.mentor)
    for message_id in (seeded.other_session, seeded.question, 99999999):
        answer = client.post(f"/console/sessions/{message_id}/attendance",
                             data={"lt": token, "person_id": str(seeded.ana)})  # fmt: skip
        assert answer.status_code == 404, message_id
    assert db.session.scalars(select(Rsvp).where(Rsvp.attended_at.is_not(None))).all() == []


def test_learners_cannot_open_sessions(client: FlaskClient, app: Flask, seeded: Seeded) -> None:
    token = seeded.token(app, seeded.ana, Role.LEARNER)
    assert client.get("/console/sessions", query_string={"lt": token}).status_code == 403
    answer = client.post(f"/console/sessions/{seeded.session}/attendance",
                         data={"lt": token, "person_id": str(seeded.ana)})  # fmt: skip
    assert answer.status_code == 403
