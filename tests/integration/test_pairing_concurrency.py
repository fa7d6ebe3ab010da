"""Two pairings of one learner at once, on real PostgreSQL with the app's own engine: the
partial unique index keeps one current mentor, and the pairing that loses the race tries
again on top of the winner instead of failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import psycopg
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Course, Enrollment, Person, Role
from lti_tool.extensions import close_connections, db
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.mentors import pairing
from lti_tool.mentors.models import MentorProfile, Mentorship
from tests.conftest import own_database
from tests.helpers.services import service_url

LMS = "https://lms.example.org"


@dataclass
class School:
    """A course with one learner and three mentors, on a database of its own."""

    app: Flask
    url: str
    course_id: int
    learner_id: int
    mentor_ids: list[int]


@pytest.fixture
def school(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[School]:
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    with own_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url, BROKER_URL="memory://")
        with app.app_context():
            flask_migrate.upgrade()
            registration = PlatformRegistration(
                issuer=LMS, client_id="c", name="LMS", auth_login_url=f"{LMS}/a",
                auth_token_url=f"{LMS}/t", key_set_url=f"{LMS}/k",
            )  # fmt: skip
            deployment = Deployment(registration=registration, deployment_id="1")
            course = Course(deployment=deployment, context_id="2", title="Course 2")
            people = [Person(registration=registration, subject=str(n)) for n in range(4)]
            db.session.add_all([course, *people])
            db.session.flush()
            for n, person in enumerate(people):
                role = Role.LEARNER if n == 0 else Role.MENTOR
                db.session.add(Enrollment(course_id=course.id, person_id=person.id, role=role))
                if n:
                    db.session.add(MentorProfile(person_id=person.id, title=f"Mentor {n}"))
            db.session.commit()
            ids = [p.id for p in people]
            yield School(app, url, course.id, ids[0], ids[1:])
            close_connections()


def _current(school: School) -> list[int]:
    with school.app.app_context():
        return list(
            db.session.scalars(
                select(Mentorship.mentor_id).where(
                    Mentorship.mentee_id == school.learner_id, Mentorship.ended_at.is_(None)
                )
            )
        )


def _pair(school: School, mentor_id: int, errors: list[BaseException]) -> None:
    with school.app.app_context():
        try:
            pairing.pair(db.session(), school.course_id, mentor_id, school.learner_id)
        except BaseException as error:
            errors.append(error)
        finally:
            db.session.remove()


@pytest.mark.integration
def test_a_pairing_that_loses_the_race_tries_again_on_top_of_the_winner(school: School) -> None:
    first, second = school.mentor_ids[:2]
    errors: list[BaseException] = []
    plain = school.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as other:
        other.execute(
            "INSERT INTO mentorships (course_id, mentor_id, mentee_id, paired_by, started_at) "
            "VALUES (%s, %s, %s, 'hand', now())",
            (school.course_id, first, school.learner_id),
        )
        pairer = threading.Thread(target=_pair, args=(school, second, errors))
        pairer.start()
        time.sleep(0.5)  # the pairing now waits on the uncommitted current pairing
        assert pairer.is_alive()
        other.commit()
        pairer.join(timeout=10)
    assert errors == []
    assert _current(school) == [second]  # the later one wins; the first is ended, not lost
    with school.app.app_context():
        rows = db.session.execute(
            select(Mentorship.mentor_id, Mentorship.ended_at.is_(None)).order_by(Mentorship.id)
        ).all()
    assert [tuple(row) for row in rows] == [(first, False), (second, True)]


@pytest.mark.integration
def test_many_pairings_of_one_learner_at_once_leave_one_current_mentor(school: School) -> None:
    errors: list[BaseException] = []
    gate = threading.Barrier(6)

    def go(mentor_id: int) -> None:
        gate.wait()
        _pair(school, mentor_id, errors)

    threads = [threading.Thread(target=go, args=(m,)) for m in school.mentor_ids * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(_current(school)) == 1
