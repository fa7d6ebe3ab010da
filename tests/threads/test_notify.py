"""Thread emails: a mentor's reply reaches the learner's inbox, an escalated question reaches
the instructors and other mentors; once, after commit, never to who turned email off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Role
from lti_tool.mentoring import preferences
from lti_tool.mentors.models import Mentorship
from lti_tool.threads import escalation, notify, services
from tests.factories import CourseFactory
from tests.helpers.smtp import Mailbox, free_port
from tests.mentors.helpers import member

TOOL = "https://mentor.example.org"


@pytest.fixture(autouse=True)
def tool_url(app: Flask, monkeypatch: pytest.MonkeyPatch, broker: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", TOOL)
    monkeypatch.setitem(app.config, "THREADS_ESCALATE_HOURS", 24)


@dataclass
class Course:
    """A course with learner Ana, her mentor Mo (profile "Coach"), mentor Lu, teacher Ines."""

    id: int
    ana: int
    mo: int
    lu: int
    ines: int


@pytest.fixture
def course(db: SQLAlchemy) -> Course:
    made = CourseFactory(title="Leading teams")
    ana = member(db, made, person__name="Ana Lima", person__email="ana@example.edu")
    mo = member(db, made, Role.MENTOR, profile="Coach", person__name="Mo Diaz",
                person__email="mo@example.edu")  # fmt: skip
    lu = member(db, made, Role.MENTOR, person__name="Lu Chen", person__email="lu@example.edu")
    ines = member(db, made, Role.INSTRUCTOR, person__name="Ines Roy",
                  person__email="ines@example.edu")  # fmt: skip
    db.session.add(Mentorship(course_id=made.id, mentor_id=mo, mentee_id=ana))
    db.session.commit()
    return Course(made.id, ana, mo, lu, ines)


def _sent(broker: Any, name: str) -> list[Any]:
    flat = broker()
    return [args for task, args in zip(flat[::2], flat[1::2], strict=True) if task == name]


def test_a_mentors_reply_emails_the_learner_once_after_commit(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Which form do I fill in?")
    post = services.reply(db.session(), thread.id, course.mo, "The <b>blue</b> one.\nThanks!")
    assert _sent(broker, notify.REPLY_TASK) == [[post.id, 1]]
    assert thread.learner_unread_at is not None  # the panel still shows it unread
    assert notify.email_reply(db.session(), post.id) == 1
    assert notify.email_reply(db.session(), post.id) == 0  # run twice: sent once
    [message] = smtp_on.messages()
    assert message["To"] == "Ana Lima <ana@example.edu>"
    assert message["Subject"] == "Your mentor answered: Which form do I fill in?"
    assert message["From"] == "Mo Diaz via Virtual Mentor <mentor@vm.example.org>"
    assert message["Message-ID"] == f"<vm-thread-post-{post.id}@vm.example.org>"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "The <b>blue</b> one.\nThanks!" in text
    assert notify.OPEN_PANEL in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "The &lt;b&gt;blue&lt;/b&gt; one.<br>Thanks!" in html
    assert str(message["List-Unsubscribe"]).strip().startswith(f"<{TOOL}/mentoring/u/")


def test_the_learners_own_post_sends_no_email(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.ana, "Anyone?")
    assert _sent(broker, notify.REPLY_TASK) == []


def test_no_email_when_the_learner_turned_email_off(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    preferences.choose(db.session(), course.ana, email=False)
    db.session.commit()
    post = services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    assert _sent(broker, notify.REPLY_TASK) == []
    assert notify.email_reply(db.session(), post.id) == 0  # a task sent before she chose
    assert smtp_on.messages() == []


def test_no_email_without_an_smtp_server(db: SQLAlchemy, course: Course, broker: Any) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    assert _sent(broker, notify.REPLY_TASK) == []


def test_a_server_that_is_down_gets_the_reply_later_per_the_retry_policy(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any, app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    post = services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    port = app.config["SMTP_PORT"]
    broker()
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    assert notify.email_reply(db.session(), post.id) == 0
    assert _sent(broker, notify.REPLY_TASK) == [[post.id, 2]]
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    assert notify.email_reply(db.session(), post.id, 2) == 1
    assert len(smtp_on.messages()) == 1


def test_an_escalated_question_emails_the_instructors_and_other_mentors_once(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any, frozen_clock: FixedClock
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "How do I start?\nI am stuck.")
    frozen_clock.advance(timedelta(hours=25))
    assert escalation.escalate_due(db.session()) == 1
    assert _sent(broker, notify.ESCALATION_TASK) == [[thread.id, None, 1]]
    assert notify.email_escalation(db.session(), thread.id, None) == 2
    assert notify.email_escalation(db.session(), thread.id, None) == 0  # once
    messages = sorted(smtp_on.messages(), key=lambda m: str(m["To"]))
    assert [m["To"] for m in messages] == ["Ines Roy <ines@example.edu>",
                                           "Lu Chen <lu@example.edu>"]  # fmt: skip
    first = messages[0]
    assert first["Subject"] == "A question has waited 25 hours: How do I start?"
    assert first["From"] == "Ana Lima via Virtual Mentor <mentor@vm.example.org>"
    text = first.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Ana Lima asked in Leading teams and has waited 25 hours" in text
    assert "How do I start?\nI am stuck." in text
    assert "because you are a mentor or instructor in Leading teams" in text
    assert "from your mentor" not in text


def test_an_escalation_skips_who_turned_email_off(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, frozen_clock: FixedClock
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    preferences.choose(db.session(), course.lu, email=False)
    db.session.commit()
    frozen_clock.advance(timedelta(hours=30))
    escalation.escalate_due(db.session())
    assert notify.email_escalation(db.session(), thread.id, None) == 1
    assert [m["To"] for m in smtp_on.messages()] == ["Ines Roy <ines@example.edu>"]
