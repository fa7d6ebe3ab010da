"""Question threads: a question reaches the right mentor, replies reach the learner, nobody
reads another learner's questions, and unanswered ones escalate once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Role
from lti_tool.errors import AppError, Forbidden
from lti_tool.mentors.models import Mentorship
from lti_tool.threads import escalation, listing, services
from lti_tool.threads.models import AuthorRole, Post, ThreadStatus
from tests.factories import CourseFactory
from tests.mentors.helpers import member
from xapi.models import OutboxStatement

TOOL = "https://mentor.example.org"


@pytest.fixture(autouse=True)
def tool_url(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", TOOL)


def test_a_question_goes_to_the_learners_own_mentor(
    db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    course = CourseFactory()
    learner = member(db, course)
    member(db, course, Role.MENTOR, profile="Coach")
    own = member(db, course, Role.MENTOR, profile="Mentor")
    db.session.add(Mentorship(course_id=course.id, mentor_id=own, mentee_id=learner))
    db.session.flush()
    thread = services.ask(db.session(), course.id, learner, "  Which form do I fill in?\nThanks ")
    assert (thread.mentor_id, thread.status) == (own, ThreadStatus.WAITING)
    assert thread.subject == "Which form do I fill in?"
    assert [(p.author_id, p.author_role, p.body) for p in thread.posts] == [
        (learner, AuthorRole.LEARNER, "Which form do I fill in?\nThanks")
    ]
    assert thread.opened_at == thread.last_learner_post_at == frozen_clock.now()


def test_without_any_mentor_the_question_goes_to_the_courses_mentors(db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = member(db, course)
    thread = services.ask(db.session(), course.id, learner, "Anyone there?")
    assert thread.mentor_id is None
    mentor = member(db, course, Role.MENTOR)  # no profile, no pairing: sees it as unassigned
    assert [row.thread.id for row in listing.for_mentor(db.session(), mentor)] == [thread.id]


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "empty"), ("x" * 10_001, "10,000 characters")],
)
def test_an_empty_or_huge_question_is_refused_in_words(
    db: SQLAlchemy, text: str, message: str
) -> None:
    course = CourseFactory()
    learner = member(db, course)
    with pytest.raises(AppError, match=message):
        services.ask(db.session(), course.id, learner, text)


def test_only_a_learner_of_the_course_can_ask(db: SQLAlchemy) -> None:
    course, other = CourseFactory(), CourseFactory()
    outsider = member(db, other)
    with pytest.raises(Forbidden, match="Only a learner of this course"):
        services.ask(db.session(), course.id, outsider, "Hello?")


def test_the_question_is_emitted_as_xapi_in_the_same_transaction(db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = member(db, course)
    thread = services.ask(db.session(), course.id, learner, "How do I apply it?")
    row = db.session.scalars(select(OutboxStatement)).one()
    registration_id = course.deployment.registration_id
    assert (row.registration_id, row.kind) == (registration_id, "asked")
    assert row.body["object"]["id"] == f"{TOOL}/xapi/activities/question/{thread.id}"
    assert row.body["object"]["definition"]["name"]["en"] == "How do I apply it?"


def test_a_mentor_reply_answers_and_marks_it_unread_for_the_learner(
    db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    course = CourseFactory()
    learner = member(db, course)
    mentor = member(db, course, Role.MENTOR, profile="Mentor")
    thread = services.ask(db.session(), course.id, learner, "When is the session?")
    frozen_clock.advance(timedelta(hours=2))
    post = services.reply(db.session(), thread.id, mentor, "Thursday at 10.")
    assert post.author_role is AuthorRole.MENTOR
    assert (thread.status, thread.answered_at) == (ThreadStatus.ANSWERED, frozen_clock.now())
    assert thread.learner_unread_at == frozen_clock.now()
    assert listing.unread_count(db.session(), course.id, learner) == 1
    services.mark_read(db.session(), thread.id, learner)
    assert listing.unread_count(db.session(), course.id, learner) == 0
    services.reply(db.session(), thread.id, learner, "And where?")
    assert thread.status is ThreadStatus.WAITING
    assert thread.learner_unread_at is None  # the learner's own post is nothing new to them


def test_a_learner_cannot_read_or_reply_to_another_learners_thread(db: SQLAlchemy) -> None:
    course = CourseFactory()
    ana, ben = member(db, course), member(db, course)
    thread = services.ask(db.session(), course.id, ana, "A private question")
    with pytest.raises(Forbidden, match="another learner"):
        services.readable(db.session(), thread.id, ben)
    with pytest.raises(Forbidden, match="Only the learner who asked"):
        services.reply(db.session(), thread.id, ben, "Me too")
    with pytest.raises(Forbidden):
        services.mark_read(db.session(), thread.id, ben)
    assert [row.thread.id for row in listing.for_learner(db.session(), course.id, ben)] == []
    assert services.readable(db.session(), thread.id, ana).posts[0].body == "A private question"


def test_an_instructor_of_one_course_cannot_reply_in_another(db: SQLAlchemy) -> None:
    course_a, course_b = CourseFactory(), CourseFactory()
    teacher_a = member(db, course_a, Role.INSTRUCTOR)
    learner_b = member(db, course_b)
    thread = services.ask(db.session(), course_b.id, learner_b, "Question in B")
    with pytest.raises(Forbidden):
        services.reply(db.session(), thread.id, teacher_a, "Answer from A")
    with pytest.raises(Forbidden):
        services.mark_answered(db.session(), thread.id, teacher_a)
    assert listing.for_mentor(db.session(), teacher_a) == []
    teacher_b = member(db, course_b, Role.INSTRUCTOR)
    services.reply(db.session(), thread.id, teacher_b, "Answer from B")
    assert len(db.session.scalars(select(Post).where(Post.thread_id == thread.id)).all()) == 2


def test_an_inactive_mentor_can_no_longer_reply(db: SQLAlchemy) -> None:
    course = CourseFactory()
    learner = member(db, course)
    former = member(db, course, Role.MENTOR, inactive=True)
    thread = services.ask(db.session(), course.id, learner, "Hello")
    with pytest.raises(Forbidden):
        services.reply(db.session(), thread.id, former, "Hi")


def test_the_inbox_lists_waiting_first_longest_waiting_first_with_age(
    db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    course = CourseFactory()
    mentor = member(db, course, Role.MENTOR, profile="Mentor")
    learners = [member(db, course) for _ in range(3)]
    asked = []
    for learner in learners:
        asked.append(services.ask(db.session(), course.id, learner, f"From {learner}"))
        frozen_clock.advance(timedelta(hours=1))
    services.reply(db.session(), asked[0].id, mentor, "Done")
    inbox = listing.for_mentor(db.session(), mentor, course.id)
    assert [row.thread.id for row in inbox] == [asked[1].id, asked[2].id, asked[0].id]
    assert [row.waiting_for for row in inbox] == [timedelta(hours=2), timedelta(hours=1), None]


def test_a_body_is_escaped_when_shown(db: SQLAlchemy) -> None:
    post = Post(body='<script>alert("x")</script>\nline two', author_role=AuthorRole.LEARNER)
    assert str(listing.body_html(post)) == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>\nline two"
    )


def test_unanswered_questions_escalate_once_after_the_configured_hours(
    db: SQLAlchemy, frozen_clock: FixedClock, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "THREADS_ESCALATE_HOURS", 24)
    course = CourseFactory()
    learner, answered_learner = member(db, course), member(db, course)
    mentor = member(db, course, Role.MENTOR, profile="Mentor")
    other_mentor = member(db, course, Role.MENTOR)
    teacher = member(db, course, Role.INSTRUCTOR)
    db.session.add(Mentorship(course_id=course.id, mentor_id=mentor, mentee_id=learner))
    db.session.flush()
    waiting = services.ask(db.session(), course.id, learner, "Still there?")
    answered = services.ask(db.session(), course.id, answered_learner, "Quick one")
    services.reply(db.session(), answered.id, mentor, "Yes")
    frozen_clock.advance(timedelta(hours=23, minutes=59))
    assert escalation.escalate_due(db.session()) == 0
    frozen_clock.advance(timedelta(minutes=1))
    assert escalation.escalate_due(db.session()) == 1
    assert waiting.escalated_at == frozen_clock.now()
    assert waiting.escalated_to == sorted([other_mentor, teacher])
    assert "for more than 24 hours" in waiting.escalation_reason
    assert answered.escalated_at is None
    frozen_clock.advance(timedelta(days=3))
    assert escalation.escalate_due(db.session()) == 0  # once


def test_escalation_runs_from_beat(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert {"task": "threads.escalate_due", "schedule": 300} in schedule.values()
