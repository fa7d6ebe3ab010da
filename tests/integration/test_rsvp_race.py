"""Learners answering a session with few places all at the same moment, on real PostgreSQL
(the app's own engine, as in production): the capacity is never exceeded, everyone else is
on the waiting list in order, and a place freed goes to the first in line."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Person
from lti_tool.extensions import close_connections, db
from lti_tool.mentoring import dispatch, journeys, meetings, plans
from lti_tool.mentoring.models import Delivery, Rsvp, RsvpAnswer
from tests.conftest import own_database
from tests.helpers.seed import platform_course
from tests.helpers.services import service_url

LEARNERS, PLACES = 12, 3
SESSION = {"starts_at": "2030-01-15T14:00:00+00:00", "duration_minutes": 60,
           "place": "Room 4", "capacity": PLACES}  # fmt: skip


def _seed(app: Flask) -> list[int]:
    """A course of learners, each invited to the session; their delivery ids."""
    with app.app_context():
        registration, course = platform_course(db.session())
        people = [Person(registration_id=registration.id, subject=str(n), time_zone="UTC")
                  for n in range(LEARNERS)]  # fmt: skip
        db.session.add_all(people)
        db.session.flush()
        sequence, _rules = plans.store(db.session(), registration.id, {"name": "Visit", "steps": [
            {"key": "invite", "offset_days": 0,
             "message": {"kind": "session", "title": "Visit", "details": SESSION}},
        ]})  # fmt: skip
        journeys.start(db.session(), [
            journeys.Start(sequence.id, course.id, person.id, "test") for person in people
        ])  # fmt: skip
        db.session.commit()
        dispatch.dispatch_due(db.session())
        return list(db.session.scalars(select(Delivery.id).order_by(Delivery.id)))


@pytest.mark.integration
def test_a_full_session_never_takes_more_than_its_places(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    with own_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url, BROKER_URL="memory://", MENTORING_QUIET_START="",
                       MENTORING_QUIET_END="", MENTORING_DAILY_CAP=0,
                       XAPI_TOOL_URL="https://mentor.example.org")  # fmt: skip
        with app.app_context():
            flask_migrate.upgrade()
        invitations = _seed(app)
        start = threading.Barrier(len(invitations))
        errors: list[BaseException] = []

        def answer(delivery_id: int) -> None:
            with app.app_context():
                try:
                    start.wait()
                    meetings.rsvp(db.session(), delivery_id, "going", via="panel")
                    db.session.commit()
                except BaseException as error:
                    errors.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=answer, args=(d,)) for d in invitations]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with app.app_context():
            rows = db.session.scalars(select(Rsvp).order_by(Rsvp.answered_at, Rsvp.id)).all()
            going = [row for row in rows if row.answer == RsvpAnswer.GOING]
            waiting = [row for row in rows if row.answer == RsvpAnswer.WAITLISTED]
            assert (len(going), len(waiting)) == (PLACES, LEARNERS - PLACES)
            first_in_line = waiting[0].person_id
            meetings.rsvp(db.session(), going[0].delivery_id or 0, "not_going", via="panel")
            db.session.commit()
            now_going = set(db.session.scalars(
                select(Rsvp.person_id).where(Rsvp.answer == RsvpAnswer.GOING)
            ))  # fmt: skip
            assert first_in_line in now_going
            assert len(now_going) == PLACES
            close_connections()
