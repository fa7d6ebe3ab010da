"""One question in the console: its posts, the learner beside it, replying (with a snippet,
without JavaScript) and marking answered; bad replies refused in words, other courses' and
learners' access refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.clock import FixedClock
from lti_tool.console import snippets
from lti_tool.courses.models import Role
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.mentoring import answers, dispatch, journeys, plans
from lti_tool.mentoring.models import Delivery
from lti_tool.threads import services
from lti_tool.threads.models import Post, Thread, ThreadStatus
from tests.console.conftest import Courses

PLAN = {"name": "Week 1 check-in", "steps": [
    {"key": "ask", "offset_days": 0, "message": {
        "kind": "question", "title": "Did you try it, {first_name}?",
        "choices": [{"key": "yes", "label": "Yes"}, {"key": "help", "label": "I need help"}]}},
]}  # fmt: skip


@pytest.fixture
def thread(db: SQLAlchemy, courses: Courses) -> Thread:
    """Ana's question in course A, addressed to Mo."""
    return services.ask(db.session(), courses.a.id, courses.ana, "Which form <b>do</b> I use?")


def _posts(db: SQLAlchemy, thread: Thread) -> list[str]:
    return list(db.session.scalars(select(Post.body).where(Post.thread_id == thread.id)
                                   .order_by(Post.id)))  # fmt: skip


def test_the_page_shows_the_question_escaped_and_the_reply_form(
    client: FlaskClient, courses: Courses, thread: Thread
) -> None:
    page = courses.get(client, f"/console/inbox/{thread.id}", courses.mo)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Which form &lt;b&gt;do&lt;/b&gt; I use?" in html
    assert "Asked by Ana Lima · waiting less than a minute" in html
    assert '<label for="reply-body">Your reply</label>' in html
    assert "Mark answered</button>" in html


def test_a_reply_is_stored_answers_the_question_and_shows(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread
) -> None:
    sent = courses.post(client, f"/console/inbox/{thread.id}/reply", courses.lu,
                        {"body": "  The blue one.  ", "action": "send"})  # fmt: skip
    assert sent.status_code == 303
    assert sent.location.startswith(f"/console/inbox/{thread.id}?lt=")
    assert _posts(db, thread) == ["Which form <b>do</b> I use?", "The blue one."]
    stored = db.session.get_one(Thread, thread.id, populate_existing=True)
    assert stored.status is ThreadStatus.ANSWERED
    assert stored.learner_unread_at is not None
    page = client.get(sent.location).get_data(as_text=True)
    assert "Your reply was sent." in page
    assert "Lu Chen (mentor)" in page
    assert "The blue one." in page
    assert "Mark answered</button>" not in page  # nothing waits any more


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ("   \n ", "Write your message first: it is empty."),
        ("x" * 10_001, "Messages are limited to 10,000 characters; this one has 10,001."),
    ],
)
def test_an_empty_or_too_long_reply_is_refused_in_words_and_nothing_is_stored(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread, body: str,
    sentence: str,
) -> None:  # fmt: skip
    refused = courses.post(client, f"/console/inbox/{thread.id}/reply", courses.mo,
                           {"body": body, "action": "send"})  # fmt: skip
    assert refused.status_code == 400
    assert sentence in refused.get_data(as_text=True)
    assert _posts(db, thread) == ["Which form <b>do</b> I use?"]
    assert db.session.get_one(Thread, thread.id).status is ThreadStatus.WAITING


def test_mark_answered_without_a_reply(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread
) -> None:
    done = courses.post(client, f"/console/inbox/{thread.id}/answered", courses.ines, {})
    assert done.status_code == 303
    assert db.session.get_one(Thread, thread.id, populate_existing=True).status is (
        ThreadStatus.ANSWERED
    )
    assert "The question is marked answered." in client.get(done.location).get_data(as_text=True)
    assert _posts(db, thread) == ["Which form <b>do</b> I use?"]


def test_insert_snippet_without_javascript_fills_the_reply_box(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread
) -> None:
    mine = snippets.add(db.session(), courses.a.deployment.registration_id, courses.mo,
                        "Forms", "All forms are on the course page.")  # fmt: skip
    page = courses.post(
        client,
        f"/console/inbox/{thread.id}/reply",
        courses.mo,
        {"body": "Hello Ana,", "snippet": str(mine.id), "action": "insert"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert ">Hello Ana,\n\nAll forms are on the course page.</textarea>" in html
    assert _posts(db, thread) == ["Which form <b>do</b> I use?"]  # nothing sent yet


@pytest.mark.parametrize(
    ("choice", "status", "sentence"),
    [
        ("all", 400, "Choose one of your snippets from the list."),
        ("lus", 404, "You have no saved snippet with that number."),
    ],
)
def test_only_ones_own_snippets_can_be_inserted(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread, choice: str,
    status: int, sentence: str,
) -> None:  # fmt: skip
    lus = snippets.add(db.session(), courses.a.deployment.registration_id, courses.lu,
                       "Secret", "Lu's own words")  # fmt: skip
    snippet = str(lus.id) if choice == "lus" else choice
    page = courses.post(client, f"/console/inbox/{thread.id}/reply", courses.mo,
                        {"body": "Hi", "snippet": snippet, "action": "insert"})  # fmt: skip
    assert page.status_code == status
    assert sentence in page.get_data(as_text=True)
    assert "Lu&#39;s own words" not in page.get_data(as_text=True)
    assert _posts(db, thread) == ["Which form <b>do</b> I use?"]
    mos = courses.get(client, f"/console/inbox/{thread.id}", courses.mo).get_data(as_text=True)
    assert "Secret" not in mos  # nor offered


def test_the_learners_progress_journeys_and_answers_are_beside_the_question(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread,
    frozen_clock: FixedClock,
) -> None:  # fmt: skip
    session = db.session()
    registration_id = courses.a.deployment.registration_id
    for n, (course, person, completed) in enumerate([
        (courses.a, courses.ana, True), (courses.a, courses.ana, False),
        (courses.a, courses.ana, True), (courses.b, courses.ana, True),  # another course
        (courses.a, courses.bo, True),  # another learner
    ]):  # fmt: skip
        session.add(LearningEvent(
            idempotency_key=f"e{n}", registration_id=registration_id, course_id=course.id,
            person_id=person, verb="http://adlnet.gov/expapi/verbs/completed",
            activity_id=f"https://lms.example.edu/a/{n}", completion=completed,
            occurred_at=datetime(2026, 11, 20 + n, 10, 0, tzinfo=UTC), source=EventSource.XAPI,
        ))  # fmt: skip
    sequence, _rules = plans.store(session, registration_id, PLAN)
    journeys.start(
        session,
        [
            journeys.Start(sequence.id, courses.a.id, courses.ana, "test"),
            journeys.Start(sequence.id, courses.b.id, courses.cy, "test"),
        ],
    )
    session.commit()
    dispatch.dispatch_due(session)
    for delivery in session.scalars(select(Delivery)):
        answers.record(session, delivery.id, "help", via="panel", text="Stuck on step 2")
    session.commit()

    html = courses.get(client, f"/console/inbox/{thread.id}", courses.mo).get_data(as_text=True)

    assert "<dt>Learning events</dt><dd>3</dd>" in html
    assert "<dt>Completions</dt><dd>2</dd>" in html
    assert ">2026-11-22</time>" in html  # her last event in this course
    assert "Week 1 check-in: active since 2026-11-24" in html
    assert "<strong>Did you try it, Ana?</strong>: I need help · “Stuck on step 2”" in html
    assert html.count("Did you try it") == 1  # not Cy's


def test_a_thread_of_another_course_is_not_found(
    client: FlaskClient, db: SQLAlchemy, courses: Courses
) -> None:
    in_b = services.ask(db.session(), courses.b.id, courses.cy, "A question in B")
    # Mo mentors in both courses, but launched into A; Ines teaches A only.
    for person in (courses.mo, courses.ines):
        assert courses.get(client, f"/console/inbox/{in_b.id}", person).status_code == 404
        replied = courses.post(client, f"/console/inbox/{in_b.id}/reply", person,
                               {"body": "Hi", "action": "send"})  # fmt: skip
        assert replied.status_code == 404
        marked = courses.post(client, f"/console/inbox/{in_b.id}/answered", person, {})
        assert marked.status_code == 404
    assert _posts(db, in_b) == ["A question in B"]
    assert db.session.get_one(Thread, in_b.id).status is ThreadStatus.WAITING
    assert courses.get(client, "/console/inbox/999999", courses.mo).status_code == 404


def test_a_learner_cannot_reach_the_thread_page_or_act(
    client: FlaskClient, db: SQLAlchemy, courses: Courses, thread: Thread
) -> None:
    path = f"/console/inbox/{thread.id}"
    for person in (courses.ana, courses.bo):
        assert courses.get(client, path, person, role=Role.LEARNER).status_code == 403
        replied = courses.post(client, f"{path}/reply", person, {"body": "Me"}, role=Role.LEARNER)
        assert replied.status_code == 403
        marked = courses.post(client, f"{path}/answered", person, {}, role=Role.LEARNER)
        assert marked.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1
