"""The question inbox: the course's questions for the mentor, unanswered first with how long
they have waited, escalations shown, and nothing of another course."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.clock import FixedClock
from lti_tool.console.questions import in_words
from lti_tool.courses.models import Role
from lti_tool.threads import escalation, services
from tests.console.conftest import Courses


def _items(html: str) -> list[str]:
    """Each listed question as "subject | learner · age", in page order."""
    found = re.findall(r'<li id="thread-\d+">\s*<a [^>]*>([^<]*)</a>\s*<p class="muted">(.*?)</p>',
                       html, re.S)  # fmt: skip
    return [f"{subject} | {re.sub(r'<[^>]+>', '', line)}" for subject, line in found]


def test_unanswered_questions_come_first_the_longest_waiting_first(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, frozen_clock: FixedClock
) -> None:
    session = db.session()
    first = services.ask(session, courses.a.id, courses.ana, "Which form do I fill in?")
    frozen_clock.advance(timedelta(hours=2))
    services.ask(session, courses.a.id, courses.bo, "Is there a deadline?\nThanks")
    frozen_clock.advance(timedelta(minutes=30))
    answered = services.ask(session, courses.a.id, courses.ana, "Where is room 4?")
    services.reply(session, answered.id, courses.mo, "Second floor.")
    frozen_clock.advance(timedelta(hours=24))

    page = courses.get(client, "/console/inbox", courses.mo)

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _items(html) == [
        "Which form do I fill in? | Ana Lima · waiting 26 hours",
        "Is there a deadline? | Bo Berg · waiting 24 hours",
        "Where is room 4? | Ana Lima · answered 24 hours ago",
    ]
    assert "Waiting for an answer (2)" in html
    assert f"/console/inbox/{first.id}?lt=" in html


def test_an_escalated_question_says_so_and_reaches_the_people_it_went_to(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, frozen_clock: FixedClock
) -> None:
    thread = services.ask(db.session(), courses.a.id, courses.ana, "Still stuck on step 3")
    assert thread.mentor_id == courses.mo  # addressed to her mentor only
    frozen_clock.advance(timedelta(hours=25))
    assert escalation.escalate_due(db.session(), hours=24) == 1

    for person in (courses.mo, courses.ines, courses.lu):  # the instructor and other mentor too
        html = courses.get(client, "/console/inbox", person).get_data(as_text=True)
        assert _items(html) == ["Still stuck on step 3 | Ana Lima · waiting 25 hours · Escalated"]
    page = courses.get(client, f"/console/inbox/{thread.id}", courses.ines)
    assert "No answer from its mentor for more than 24 hours" in page.get_data(as_text=True)


def test_a_mentor_sees_only_the_launch_courses_questions(
    client: FlaskClient, db: SQLAlchemy, courses: Courses
) -> None:
    services.ask(db.session(), courses.a.id, courses.ana, "A question in A")
    services.ask(db.session(), courses.b.id, courses.cy, "A question in B")
    in_a = courses.get(client, "/console/inbox", courses.mo).get_data(as_text=True)
    in_b = courses.get(client, "/console/inbox", courses.mo, course=courses.b)
    assert "A question in A" in in_a
    assert "A question in B" not in in_a
    assert "A question in B" in in_b.get_data(as_text=True)
    assert "A question in A" not in in_b.get_data(as_text=True)
    di = courses.get(client, "/console/inbox", courses.di, course=courses.b)
    assert "A question in A" not in di.get_data(as_text=True)


def test_the_console_home_links_the_inbox_with_the_unanswered_count(
    client: FlaskClient, db: SQLAlchemy, courses: Courses
) -> None:
    home = courses.get(client, "/console/", courses.mo).get_data(as_text=True)
    assert "Question inbox</a>: No question waits for an answer." in home
    services.ask(db.session(), courses.a.id, courses.ana, "One")
    services.ask(db.session(), courses.a.id, courses.bo, "Two")
    home = courses.get(client, "/console/", courses.mo).get_data(as_text=True)
    assert "Question inbox</a>: 2 questions wait for an answer." in home


def test_learners_cannot_open_the_inbox(client: FlaskClient, courses: Courses) -> None:
    page = courses.get(client, "/console/inbox", courses.ana, role=Role.LEARNER)
    assert page.status_code == 403
    assert "for mentors and instructors" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=0), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=59, seconds=59), "59 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=26, minutes=40), "26 hours"),
        (timedelta(hours=47, minutes=59), "47 hours"),
        (timedelta(hours=48), "2 days"),
        (timedelta(days=9, hours=23), "9 days"),
        (timedelta(seconds=-5), "less than a minute"),  # a clock a little behind
    ],
)
def test_waiting_times_read_as_a_person_says_them(delta: timedelta, words: str) -> None:
    assert in_words(delta) == words
