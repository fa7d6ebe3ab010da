"""Asking the mentor from the panel: the question is sent, listed with its status and age,
answered, read and replied to; bad questions are refused in words, and nobody reaches
another learner's questions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.clock import FixedClock
from lti_tool.panel.own import age
from lti_tool.threads import services
from lti_tool.threads.models import Post, Thread, ThreadStatus
from tests.panel.conftest import People


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=-5), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=59, seconds=59), "59 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=23), "23 hours"),
        (timedelta(days=1, hours=5), "1 day"),
        (timedelta(days=40), "40 days"),
    ],
)
def test_an_age_reads_in_its_largest_whole_unit(delta: timedelta, words: str) -> None:
    assert age(delta) == words


def _thread(db: SQLAlchemy) -> Thread:
    return db.session.scalars(select(Thread).execution_options(populate_existing=True)).one()


def test_a_question_is_sent_listed_answered_and_read(
    people: People, db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    sent = people.post("ana", "/panel/ask", question="How do I calm an angry caller?\nThanks")
    thread = _thread(db)
    assert sent.status_code == 303
    assert f"/panel/threads/{thread.id}?lt=" in sent.location
    assert (thread.learner_id, thread.mentor_id) == (people.ids["ana"], people.ids["maya"])

    frozen_clock.advance(timedelta(hours=3))
    home = people.get("ana", "/panel/").text
    assert "How do I calm an angry caller?</a>" in home
    assert "Waiting for an answer" in home
    assert "asked 3 hours ago" in home

    services.reply(db.session(), thread.id, people.ids["maya"], "Breathe, then <listen>.")
    home = people.get("ana", "/panel/").text
    assert "Answered</span>" in home
    assert "1 new reply" in home

    page = people.get("ana", f"/panel/threads/{thread.id}")
    assert page.status_code == 200
    assert "How do I calm an angry caller?<br>\nThanks" in page.text
    assert "<strong>Maya Okafor</strong>" in page.text
    assert "Breathe, then &lt;listen&gt;." in page.text
    assert '<label for="reply">Your reply</label>' in page.text
    assert 'id="ask-heading">Ask your mentor' in page.text  # the ask box is on every page
    assert _thread(db).learner_unread_at is None
    assert "new reply" not in people.get("ana", "/panel/").text


def test_the_learner_replies_and_the_question_waits_again(people: People, db: SQLAlchemy) -> None:
    people.post("ana", "/panel/ask", question="Which form?")
    thread = _thread(db)
    services.reply(db.session(), thread.id, people.ids["maya"], "Form B.")
    answered = people.post("ana", f"/panel/threads/{thread.id}/reply", text="Where is it?")
    post = db.session.scalars(select(Post).order_by(Post.id.desc())).first()
    assert post is not None
    assert answered.status_code == 303
    assert answered.location.endswith(f"#p{post.id}")
    assert _thread(db).status is ThreadStatus.WAITING
    assert "Where is it?" in people.get("ana", f"/panel/threads/{thread.id}").text


@pytest.mark.parametrize(
    ("text", "sentence"),
    [("   ", "Write your message first: it is empty."),
     ("x" * 10_001, "Messages are limited to 10,000 characters; this one has 10,001.")],
)  # fmt: skip
def test_an_empty_or_too_long_question_is_refused_in_words_and_nothing_is_stored(
    people: People, db: SQLAlchemy, text: str, sentence: str
) -> None:
    refused = people.post("ana", "/panel/ask", question=text)
    assert refused.status_code == 400
    assert sentence in refused.text
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_an_empty_reply_is_refused_and_nothing_is_stored(people: People, db: SQLAlchemy) -> None:
    people.post("ana", "/panel/ask", question="Which form?")
    thread = _thread(db)
    refused = people.post("ana", f"/panel/threads/{thread.id}/reply", text="")
    assert refused.status_code == 400
    assert "it is empty" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_another_learners_question_is_not_found(people: People, db: SQLAlchemy) -> None:
    people.post("ana", "/panel/ask", question="Private question")
    thread = _thread(db)
    assert people.get("ben", f"/panel/threads/{thread.id}").status_code == 404
    stolen = people.post("ben", f"/panel/threads/{thread.id}/reply", text="Mine now")
    assert stolen.status_code == 404
    assert "Private question" not in people.get("ben", "/panel/").text
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_the_panel_is_the_learners_staff_answer_in_the_console(
    people: People, db: SQLAlchemy
) -> None:
    people.post("ana", "/panel/ask", question="Private question")
    thread = _thread(db)
    # An instructor's or mentor's token does not open a learner's question in the panel...
    assert people.get("ivan", f"/panel/threads/{thread.id}").status_code == 404
    assert people.post("maya", f"/panel/threads/{thread.id}/reply", text="Hi").status_code == 404
    # ...nor ask the course's mentors as if a learner.
    asked = people.post("ivan", "/panel/ask", question="Me too?")
    assert asked.status_code == 403
    assert "Only a learner of this course can ask" in asked.text
    # And a learner cannot reach the console.
    assert people.get("ana", "/console/").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 1


def test_without_a_launch_token_nothing_is_asked(people: People, db: SQLAlchemy) -> None:
    assert people.client.post("/panel/ask", data={"question": "Hi"}).status_code in (401, 403)
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0
