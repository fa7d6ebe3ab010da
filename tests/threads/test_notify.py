"""Thread emails: a mentor's reply reaches the learner's inbox, an escalated question reaches
the instructors and other mentors; once, queued with the reply or the escalation (a lost
task, a broker down at the commit or a dead worker delays one, never loses it), never to who
turned email off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Role
from lti_tool.mentoring import copies, preferences
from lti_tool.mentoring.channels.models import CopyStatus
from lti_tool.mentors.models import Mentorship
from lti_tool.threads import escalation, notify, services
from lti_tool.threads.models import AuthorRole, Post, Thread, ThreadEmail
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


def _emails(db: SQLAlchemy) -> list[ThreadEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(ThreadEmail).order_by(ThreadEmail.id)))


def test_a_mentors_reply_emails_the_learner_once_after_commit(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Which form do I fill in?")
    post = services.reply(db.session(), thread.id, course.mo, "The <b>blue</b> one.\nThanks!")
    [email] = _emails(db)
    assert (email.kind, email.post_id, email.person_id) == ("reply", post.id, course.ana)
    assert email.status == CopyStatus.WAITING
    assert _sent(broker, notify.SEND_TASK) == [[[email.id], 1]]
    assert thread.learner_unread_at is not None  # the panel still shows it unread
    assert notify.send(db.session(), [email.id]) == 1
    assert notify.send(db.session(), [email.id]) == 0  # run twice: sent once
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
    [email] = _emails(db)
    assert (email.status, email.attempts) == (CopyStatus.SENT, 1)
    assert email.sent_at is not None


def test_the_learners_own_post_sends_no_email(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.ana, "Anyone?")
    assert _sent(broker, notify.SEND_TASK) == []
    assert _emails(db) == []


def test_no_email_when_the_learner_turned_email_off(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    preferences.choose(db.session(), course.ana, email=False)
    db.session.commit()
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    assert _sent(broker, notify.SEND_TASK) == []
    assert _emails(db) == []


def test_turning_email_off_before_a_queued_reply_goes_stops_it(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    [email] = _emails(db)
    preferences.choose(db.session(), course.ana, email=False)  # e.g. the one-click unsubscribe
    db.session.commit()
    assert notify.send(db.session(), [email.id]) == 0
    assert smtp_on.messages() == []
    [email] = _emails(db)
    assert (email.status, email.reason) == (CopyStatus.UNAVAILABLE, "They turned email off.")
    assert notify.send_due(db.session()) == 0  # done with: the sweep leaves it


def test_no_email_without_an_smtp_server(db: SQLAlchemy, course: Course, broker: Any) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    assert _sent(broker, notify.SEND_TASK) == []
    assert _emails(db) == []


def test_a_reply_rolled_back_queues_no_email(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    session = db.session()
    post = Post(author_id=course.mo, author_role=AuthorRole.MENTOR, body="Hi",
                created_at=thread.opened_at)  # fmt: skip
    thread.posts.append(post)
    session.flush()
    services.notify_reply(session, thread, post)  # what services.reply does before its commit
    assert len(_emails(db)) == 1  # written in the reply's transaction...
    session.rollback()
    assert _emails(db) == []  # ... and gone with it, and no task was sent
    assert _sent(broker, notify.SEND_TASK) == []


def test_a_server_that_is_down_gets_the_reply_later_per_the_retry_policy(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any, app: Flask,
    monkeypatch: pytest.MonkeyPatch, frozen_clock: FixedClock,
) -> None:  # fmt: skip
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    [email] = _emails(db)
    port = app.config["SMTP_PORT"]
    broker()
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    assert notify.send(db.session(), [email.id]) == 0
    assert _sent(broker, notify.SEND_TASK) == [[[email.id], 2]]
    [email] = _emails(db)
    assert email.status == CopyStatus.WAITING
    assert email.next_attempt_at > frozen_clock.now()  # the policy's wait
    assert "SMTP" in email.reason or "connect" in email.reason.lower()
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    assert notify.send(db.session(), [email.id], 2) == 0  # too early: still waiting
    assert notify.send_due(db.session()) == 0
    frozen_clock.advance(email.next_attempt_at - frozen_clock.now())
    assert notify.send_due(db.session()) == 1
    assert _sent(broker, notify.SEND_TASK) == [[[email.id], 1]]
    assert notify.send(db.session(), [email.id]) == 1
    assert len(smtp_on.messages()) == 1
    assert _emails(db)[0].attempts == 2


def test_a_broker_down_at_the_commit_delays_the_reply_never_loses_it(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")

    def broker_down(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(notify, "send_later", broker_down)
        post = services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    assert _sent(broker, notify.SEND_TASK) == []  # the task never reached the broker
    [email] = _emails(db)
    assert notify.send_due(db.session()) == 1  # beat's sweep finds it
    assert _sent(broker, notify.SEND_TASK) == [[[email.id], 1]]
    assert notify.send(db.session(), [email.id]) == 1
    [message] = smtp_on.messages()
    assert message["Message-ID"] == f"<vm-thread-post-{post.id}@vm.example.org>"


def test_a_worker_that_died_sending_leaves_the_email_to_the_sweep_after_its_lease(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any, app: Flask,
    frozen_clock: FixedClock,
) -> None:  # fmt: skip
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    [email] = _emails(db)
    lease = float(app.config["CHANNELS_LEASE_SECONDS"])
    assert copies.claim(db.session(), notify.EMAILS, [email.id], lease) == {email.id: 1}
    # ... and the worker that claimed it was killed before the server answered.
    assert notify.send(db.session(), [email.id]) == 0  # another sender leaves it alone
    assert notify.send_due(db.session()) == 0
    frozen_clock.advance(timedelta(seconds=lease))
    assert notify.send_due(db.session()) == 1
    assert notify.send(db.session(), [email.id]) == 1
    assert len(smtp_on.messages()) == 1
    assert _emails(db)[0].attempts == 2


def test_an_escalated_question_emails_the_instructors_and_other_mentors_once(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, broker: Any, frozen_clock: FixedClock
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "How do I start?\nI am stuck.")
    frozen_clock.advance(timedelta(hours=25))
    assert escalation.escalate_due(db.session()) == 1
    emails = _emails(db)
    assert {(e.kind, e.person_id) for e in emails} == {("escalation", course.lu),
                                                      ("escalation", course.ines)}  # fmt: skip
    ids = [e.id for e in emails]
    assert _sent(broker, notify.SEND_TASK) == [[ids, 1]]
    assert escalation.escalate_due(db.session()) == 0  # escalated once
    assert notify.send(db.session(), ids) == 2
    assert notify.send(db.session(), ids) == 0  # once
    messages = sorted(smtp_on.messages(), key=lambda m: str(m["To"]))
    assert [m["To"] for m in messages] == ["Ines Roy <ines@example.edu>",
                                           "Lu Chen <lu@example.edu>"]  # fmt: skip
    first = messages[0]
    assert first["Subject"] == "A question has waited 25 hours: How do I start?"
    assert first["From"] == "Ana Lima via Virtual Mentor <mentor@vm.example.org>"
    assert first["Message-ID"] == f"<vm-thread-{thread.id}-escalated-{course.ines}@vm.example.org>"
    text = first.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Ana Lima asked in Leading teams and has waited 25 hours" in text
    assert "How do I start?\nI am stuck." in text
    assert "because you are a mentor or instructor in Leading teams" in text
    assert "from your mentor" not in text


def test_an_escalation_skips_who_turned_email_off(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox, frozen_clock: FixedClock
) -> None:
    services.ask(db.session(), course.id, course.ana, "Hello?")
    preferences.choose(db.session(), course.lu, email=False)
    db.session.commit()
    frozen_clock.advance(timedelta(hours=30))
    escalation.escalate_due(db.session())
    [email] = _emails(db)
    assert email.person_id == course.ines
    assert notify.send(db.session(), [email.id]) == 1
    assert [m["To"] for m in smtp_on.messages()] == ["Ines Roy <ines@example.edu>"]


def test_erasing_the_thread_takes_its_queued_emails_with_it(
    db: SQLAlchemy, course: Course, smtp_on: Mailbox
) -> None:
    thread = services.ask(db.session(), course.id, course.ana, "Hello?")
    services.reply(db.session(), thread.id, course.mo, "Hi Ana")
    [email_id] = [email.id for email in _emails(db)]
    db.session.delete(db.session.get(Thread, thread.id))
    db.session.commit()
    assert _emails(db) == []
    assert notify.send(db.session(), [email_id]) == 0
    assert smtp_on.messages() == []


def test_beat_sweeps_the_thread_emails_as_often_as_the_copies(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["send-due-thread-emails"] == {
        "task": "threads.send_due_emails", "schedule": app.config["CHANNELS_SWEEP_SECONDS"],
    }  # fmt: skip
