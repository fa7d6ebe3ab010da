"""Emails about question threads, through the email channel: a mentor's reply to the
learner, and an escalated question to the people it was escalated to.

The thread write queues a task after its commit (nothing waits for SMTP, and a rollback
sends nothing), only when an SMTP server is set up. The task claims its post or thread
(``notified_at``, ``escalation_notified_at``: set ``WHERE`` still empty, committed before
sending), so a task run twice sends once; messages the channel says to try again go in a
later task after the channel retry policy's wait. Each email has a Message-ID of its own
(``vm-thread-post-<id>``, ``vm-thread-<id>-escalated-<person>``) that no delivery's can
equal. Who turned email off (their preference, or the one-click unsubscribe) gets none: the
panel shows the reply and the console the question either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from celery import current_app as celery_app
from flask import current_app
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from lti_tool import clock, jobs
from lti_tool.courses.models import Course, Person
from lti_tool.i18n import N_, _, in_language, reason
from lti_tool.mentoring import links, preferences
from lti_tool.mentoring.channels.base import Mentor, Outcome, Outgoing, Recipient, RetryPolicy
from lti_tool.mentoring.channels.email import EmailChannel, SmtpSettings
from lti_tool.mentors.models import MentorProfile
from lti_tool.threads.models import AuthorRole, Post, Thread
from xapi.outbox import tool_url

log = logging.getLogger(__name__)
REPLY_TASK = "threads.email_reply"
ESCALATION_TASK = "threads.email_escalation"
OPEN_PANEL = N_("Open your mentor panel in your course to read the conversation and answer.")
OPEN_CONSOLE = N_("Open the mentor console in the course to answer.")


def reply_after_commit(session: Session, thread: Thread, post: Post) -> None:
    """Queue the learner's email about a mentor's reply, if email is set up and they want it."""
    if _wants_email(session, [thread.learner_id]):
        post_id = post.id
        jobs.call_after_commit(REPLY_TASK, lambda: _send_task(REPLY_TASK, [post_id, 1]))


def escalation_after_commit(thread: Thread) -> None:
    """Queue the emails about an escalated thread, if email is set up."""
    if current_app.config["SMTP_HOST"] and thread.escalated_to:
        args = [thread.id, None, 1]
        jobs.call_after_commit(ESCALATION_TASK, lambda: _send_task(ESCALATION_TASK, args))


def email_reply(session: Session, post_id: int, attempt: int = 1) -> int:
    """Email the learner a mentor's reply (once: the first attempt claims the post); how
    many emails went."""
    post = session.get(Post, post_id)
    if post is None or post.author_role is not AuthorRole.MENTOR:
        return 0
    if attempt == 1 and not _claim(session, Post.id == post_id, Post.notified_at):
        return 0
    thread = post.thread
    if not _wants_email(session, [thread.learner_id]):
        return 0
    outgoing = _reply(session, thread, post)
    session.commit()  # nothing pending while the channel calls out
    return _send(REPLY_TASK, [outgoing], lambda again: [post_id, attempt + 1], attempt)


def email_escalation(session: Session, thread_id: int, person_ids: list[int] | None,
                     attempt: int = 1) -> int:  # fmt: skip
    """Email the people a thread was escalated to (``person_ids``: only those, on a retry;
    the first attempt claims the thread); how many emails went."""
    thread = session.get(Thread, thread_id)
    if thread is None or thread.escalated_at is None:
        return 0
    if person_ids is None:
        if not _claim(session, Thread.id == thread_id, Thread.escalation_notified_at):
            return 0
        person_ids = list(thread.escalated_to)
    wanting = preferences.policies(session, person_ids, current_app.config)
    people = [p for p in person_ids if p in wanting and "email" in wanting[p].channels]
    outgoings = [_escalated(session, thread, session.get_one(Person, p)) for p in people]
    session.commit()
    return _send(ESCALATION_TASK, outgoings,
                 lambda again: [thread_id, [o.recipient.person_id for o in again], attempt + 1],
                 attempt)  # fmt: skip


def _send_task(name: str, args: list[Any], wait: float = 0) -> Any:
    return celery_app.send_task(name, args=args, countdown=wait or None)


def _wants_email(session: Session, person_ids: list[int]) -> bool:
    config = current_app.config
    if not config["SMTP_HOST"]:
        return False
    policy = preferences.policies(session, person_ids, config).get(person_ids[0])
    return policy is not None and "email" in policy.channels


def _claim(session: Session, which: ColumnElement[bool], mark: Any) -> bool:
    """Set the mark where it is still empty; whether this call set it (committed)."""
    table = mark.class_
    claimed = session.execute(
        update(table)
        .where(which, mark.is_(None))
        .values({mark.key: clock.now()})
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    return bool(claimed)


def _send(
    task: str, outgoings: Sequence[Outgoing], again_args: Callable[[list[Outgoing]], list[Any]],
    attempt: int,
) -> int:  # fmt: skip
    """Send through the email channel; queue the ones to try again; how many went."""
    if not outgoings:
        return 0
    config = current_app.config
    results = EmailChannel(SmtpSettings.from_config(config)).send_many(outgoings)
    pairs = list(zip(outgoings, results, strict=True))
    for outgoing, result in pairs:
        if result.outcome == Outcome.FAILED:
            log.warning("The email %s failed for good: %s", outgoing.message_key, result.reason)
    again = [(outgoing, result) for outgoing, result in pairs if result.outcome == Outcome.RETRY]
    if again:
        wait = RetryPolicy.from_config(config).next_wait(attempt, again[0][1])
        if wait is None:
            log.warning("Gave up on %d emails after %d attempts: %s", len(again), attempt,
                        again[0][1].reason)  # fmt: skip
        else:
            _send_task(task, again_args([outgoing for outgoing, _result in again]), wait)
    return sum(1 for result in results if result.outcome == Outcome.SENT)


def _reply(session: Session, thread: Thread, post: Post) -> Outgoing:
    learner = session.get_one(Person, thread.learner_id)
    recipient = _recipient(session, learner)
    with in_language(recipient.language):
        return _reply_to(session, thread, post, recipient)


def _reply_to(session: Session, thread: Thread, post: Post, recipient: Recipient) -> Outgoing:
    learner = session.get_one(Person, thread.learner_id)
    author = session.get_one(Person, post.author_id)
    profile = session.scalar(select(MentorProfile).where(MentorProfile.person_id == author.id))
    mentor = Mentor(name=(profile and profile.display_name) or author.display_name,
                    title=profile.title if profile else "")  # fmt: skip
    course = session.get_one(Course, thread.course_id)
    return Outgoing(
        delivery_id=0, registration_id=learner.registration_id, recipient=recipient,
        mentor=mentor, subject=_("Your mentor answered: %(subject)s", subject=thread.subject),
        text=f"{post.body}\n\n{_(OPEN_PANEL)}", html=_html(post.body, _(OPEN_PANEL)),
        unsubscribe_url=tool_url() + links.unsubscribe_path(learner.id), category="question",
        course_title=course.title or "", message_key=f"thread-post-{post.id}",
    )  # fmt: skip


def _escalated(session: Session, thread: Thread, person: Person) -> Outgoing:
    recipient = _recipient(session, person)
    with in_language(recipient.language):
        return _escalated_to(session, thread, recipient)


def _escalated_to(session: Session, thread: Thread, recipient: Recipient) -> Outgoing:
    learner = session.get_one(Person, thread.learner_id)
    course = session.get_one(Course, thread.course_id)
    asked = next((p for p in reversed(thread.posts) if p.author_role is AuthorRole.LEARNER), None)
    waited = hours_waited(thread.last_learner_post_at, thread.escalated_at or clock.now())
    who, course_title, hours = learner.display_name, course.title or "", waited
    intro = (_("%(who)s asked in %(course)s and has waited %(hours)s hours for an answer:",
               who=who, course=course_title, hours=hours) if course_title
             else _("%(who)s asked and has waited %(hours)s hours for an answer:", who=who,
                    hours=hours))  # fmt: skip
    footer = (_("You receive this because you are a mentor or instructor in %(course)s.",
                course=course_title) if course_title
              else _("You receive this because you are a mentor or instructor."))  # fmt: skip
    question = asked.body if asked else thread.subject
    why, person_id = reason(thread.escalation_reason), recipient.person_id
    return Outgoing(
        delivery_id=0, registration_id=learner.registration_id, recipient=recipient,
        mentor=Mentor(name=learner.display_name),
        subject=_("A question has waited %(hours)s hours: %(subject)s", hours=waited,
                  subject=thread.subject),
        text=f"{intro}\n\n{question}\n\n{why}\n{_(OPEN_CONSOLE)}",
        html=_html(intro) + _html(question, why, _(OPEN_CONSOLE)),
        unsubscribe_url=tool_url() + links.unsubscribe_path(person_id),
        course_title=course_title, message_key=f"thread-{thread.id}-escalated-{person_id}",
        footer=footer,
    )  # fmt: skip


def hours_waited(since: datetime, until: datetime) -> int:
    """Whole hours between two moments."""
    return int((until - since).total_seconds() // 3600)


def _recipient(session: Session, person: Person) -> Recipient:
    spoken = preferences.languages(session, {person.id: person.locale})[person.id]
    return Recipient(person.id, person.display_name, person.email, person.subject,
                     person.lms_user_id, person.time_zone, person.locale, spoken)  # fmt: skip


def _html(*paragraphs: str) -> str:
    """Plain text as HTML paragraphs, escaped (nothing a person wrote is interpreted)."""
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p)
