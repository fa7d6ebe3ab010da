"""Scheduling a session from the console (invitations to everyone, a section or one learner)
and reminding those going, once a day."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Role
from lti_tool.mentoring import dispatch
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    Message,
    MessageKind,
    Rsvp,
    RsvpAnswer,
    Sequence,
)
from tests.console import seed_roster
from tests.console.seed_roster import Seeded
from tests.mentors.helpers import member

seeded = seed_roster.seeded  # the fixture, for the tests here

#: A good form: office hours a week after the seeded clock (2026-11-25 09:00 UTC).
GOOD = {"title": "Week 2 check-in", "description": "Bring **one** question.",
        "format": "office_hours", "date": "2026-12-02", "time": "14:00",
        "time_zone": "Europe/Paris", "duration": "45", "place": "Room 4",
        "url": "https://meet.example.org/w2", "capacity": "10", "audience": "all"}  # fmt: skip


def _post(client: FlaskClient, app: Flask, seeded: Seeded, **changes: str) -> Any:
    data = {"lt": seeded.token(app, seeded.mentor), **GOOD, **changes}
    return client.post("/console/sessions/new", data=data)


def _received(db: SQLAlchemy, title: str) -> set[int]:
    """Who the message called ``title`` was delivered to, after running the dispatcher."""
    dispatch.dispatch_due(db.session())
    return set(db.session.scalars(
        select(Delivery.person_id).join(Message, Message.id == Delivery.message_id)
        .where(Message.title == title, Delivery.status == DeliveryStatus.DELIVERED)
    ))  # fmt: skip


def _stored(db: SQLAlchemy) -> tuple[int, ...]:
    return tuple(int(db.session.scalar(select(func.count()).select_from(model)) or 0)
                 for model in (Sequence, Message, Journey, Delivery))  # fmt: skip


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_form_offers_zones_sections_and_learners(
    client: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    page = client.get("/console/sessions/new",
                      query_string={"lt": seeded.token(app, seeded.mentor)})  # fmt: skip
    assert page.status_code == 200
    assert "<option selected>UTC</option>" in page.text  # the mentor has no zone
    assert "<option>Europe/Paris</option>" in page.text
    assert "<option>Lyon</option>" in page.text
    assert "<option>Paris</option>" in page.text
    assert "Cleo Diaz" in page.text
    assert "Stella Other" not in page.text  # a learner of the other course


@pytest.mark.parametrize(
    ("audience", "invited"),
    [({"audience": "all"}, {"ana", "ben", "cleo", "dan"}),
     ({"audience": "section", "section": "Lyon"}, {"ana", "dan"}),
     ({"audience": "learner", "person_id": "cleo", "format": "one_to_one"}, {"cleo"})],
)  # fmt: skip
def test_scheduling_invites_exactly_those_chosen(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded,
    audience: dict[str, str], invited: set[str],
) -> None:  # fmt: skip
    if "person_id" in audience:
        audience = {**audience, "person_id": str(getattr(seeded, audience["person_id"]))}
    answer = _post(client, app, seeded, **audience)
    assert answer.status_code == 303
    assert "/console/sessions?" in answer.location
    assert _received(db, "Week 2 check-in") == {getattr(seeded, name) for name in invited}
    message = db.session.scalars(select(Message).where(Message.title == "Week 2 check-in")).one()
    assert message.kind == MessageKind.SESSION
    assert message.details["starts_at"] == "2026-12-02T13:00:00+00:00"
    assert message.details["ends_at"] == "2026-12-02T13:45:00+00:00"
    assert message.details["capacity"] == 10
    sequence = db.session.scalars(
        select(Sequence).where(Sequence.name == "Session: Week 2 check-in")
    ).one()
    assert sequence.course_id == seeded.course.id
    page = client.get(answer.location).text
    text = _text(page)
    assert "Week 2 check-in" in text
    assert "Wednesday 2 December 2026, 14:00\u201314:45 (Europe/Paris)" in text
    assert "0 of 10 places taken" in text


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [({"title": "  "}, "Give the session a title."),
     ({"date": "2026-13-01"}, "is not a date and a start time"),
     ({"time": "25:00"}, "is not a date and a start time"),
     ({"date": "2026-11-25", "time": "09:30"}, "is in the past"),  # 08:30 UTC
     ({"time_zone": "Mars/Olympus"}, "“Mars/Olympus” is not a time zone"),
     ({"place": "", "url": ""}, "a session needs a place, a url to join, or both"),
     ({"url": "meet.example.org"}, "must be an http(s) address"),
     ({"capacity": "0"}, "capacity is a whole number of places (at least 1)"),
     ({"capacity": "lots"}, "The number of places is a whole number, not “lots”."),
     ({"duration": "0"}, "duration_minutes is a whole number from 1 to 1440"),
     ({"format": "party"}, "format must be one of"),
     ({"audience": "section", "section": "Mars"}, "Pick the section from the list."),
     ({"audience": "learner", "person_id": "stranger"}, "Only an active learner of this course"),
     ({"audience": "learner", "person_id": "mentor"}, "Only an active learner of this course"),
     ({"audience": "everyone"}, "Say who is invited")],
)  # fmt: skip
def test_bad_forms_are_400s_keep_what_was_typed_and_store_nothing(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded,
    changes: dict[str, str], sentence: str,
) -> None:  # fmt: skip
    if changes.get("person_id") in ("stranger", "mentor"):
        changes = {**changes, "person_id": str(getattr(seeded, changes["person_id"]))}
    before = _stored(db)
    answer = _post(client, app, seeded, **{**changes, "description": "Keep <this>"})
    assert answer.status_code == 400
    assert sentence in answer.text.replace("&#34;", '"').replace("&#39;", "'")
    assert "The session was not scheduled." in answer.text
    assert "Keep &lt;this&gt;</textarea>" in answer.text
    if "title" not in changes:
        assert 'value="Week 2 check-in"' in answer.text
    assert _stored(db) == before


def _remind(client: FlaskClient, app: Flask, seeded: Seeded, message_id: int) -> Any:
    return client.post(f"/console/sessions/{message_id}/remind",
                       data={"lt": seeded.token(app, seeded.mentor)})  # fmt: skip


def test_a_reminder_goes_to_those_going_once_a_day(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock
) -> None:
    answer = _remind(client, app, seeded, seeded.session)
    assert answer.status_code == 303
    assert answer.location.endswith(f"#s{seeded.session}")
    assert _received(db, "Reminder: Office hours") == {seeded.ana, seeded.dan}
    reminder = db.session.scalars(
        select(Message).where(Message.title == "Reminder: Office hours")
    ).one()
    assert reminder.kind == MessageKind.ANNOUNCEMENT
    assert "Tuesday 1 December 2026, 14:00\u201315:00 (Europe/Paris)" in reminder.body
    assert "Room 4" in reminder.body
    page = client.get("/console/sessions", query_string={"lt": seeded.token(app, seeded.mentor)})
    assert "2 reminded today." in page.text

    # Pressed again the same day (Cleo has said she is going since): only she is reminded.
    cleo = db.session.scalars(select(Rsvp).where(Rsvp.person_id == seeded.cleo)).one()
    cleo.answer = RsvpAnswer.GOING
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Delivery))
    assert _remind(client, app, seeded, seeded.session).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == (before or 0) + 1
    assert _received(db, "Reminder: Office hours") == {seeded.ana, seeded.dan, seeded.cleo}
    assert _remind(client, app, seeded, seeded.session).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == (before or 0) + 1
    reasons = db.session.scalars(select(Journey.start_reason).join(Sequence).where(
        Sequence.name.like("Reminder of session%"))).all()  # fmt: skip
    assert set(reasons) == {"Reminded on 2026-11-25 by Maya Okafor: you said you are going to "
                            "“Office hours”."}  # fmt: skip

    # The next day is another reminder.
    frozen_clock.at = frozen_clock.at.replace(day=26)
    assert _remind(client, app, seeded, seeded.session).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == (before or 0) + 4


def test_reminding_nobody_or_a_started_session_is_refused(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded, frozen_clock: FixedClock
) -> None:
    for rsvp in db.session.scalars(select(Rsvp)):
        rsvp.answer = RsvpAnswer.MAYBE
    db.session.commit()
    before = _stored(db)
    answer = _remind(client, app, seeded, seeded.session)
    assert answer.status_code == 400
    assert "Nobody has said they are going to “Office hours” yet" in answer.text
    frozen_clock.at = frozen_clock.at.replace(month=12, day=1, hour=13, minute=30)
    answer = _remind(client, app, seeded, seeded.session)
    assert answer.status_code == 409
    assert "has already started" in answer.text
    assert _stored(db) == before


def test_learners_get_403_and_other_courses_sessions_404(
    client: FlaskClient, app: Flask, db: SQLAlchemy, seeded: Seeded
) -> None:
    before = _stored(db)
    learner = seeded.token(app, seeded.ana, Role.LEARNER)
    assert client.get("/console/sessions/new", query_string={"lt": learner}).status_code == 403
    data = {"lt": learner, **GOOD}
    assert client.post("/console/sessions/new", data=data).status_code == 403
    assert client.post(f"/console/sessions/{seeded.session}/remind",
                       data={"lt": learner}).status_code == 403  # fmt: skip
    assert _remind(client, app, seeded, seeded.other_session).status_code == 404
    assert _stored(db) == before
    their_mentor = member(db, seeded.other, Role.MENTOR, person__name="Otto Other")
    db.session.commit()
    before = _stored(db)
    other = seeded.token(app, their_mentor, course=seeded.other)
    assert client.post(f"/console/sessions/{seeded.session}/remind",
                       data={"lt": other}).status_code == 404  # fmt: skip
    assert _stored(db) == before
