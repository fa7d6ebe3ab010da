"""Emails about question threads, through the email channel: a mentor's reply to the
learner, and an escalated question to the people it was escalated to.

Each email is a ``thread_emails`` row written in the transaction of the reply or the
escalation (only when an SMTP server is set up and the person wants email), so a rollback
sends nothing and a commit cannot lose one. After the commit a task hurries the rows along
(``threads.send_emails``); the sender claims them (``FOR UPDATE SKIP LOCKED`` and a lease of
``VM_CHANNELS_LEASE_SECONDS``), builds each email from the thread as it stands, and records
each the moment the SMTP server answers; what to try again waits per the channel retry
policy. Beat's sweep (``threads.send_due_emails``, every ``VM_CHANNELS_SWEEP_SECONDS``)
sends what a lost task, a killed worker or a broker down at the commit left waiting: the
channel copies' queue (``lti_tool.mentoring.copies``). Each email has a Message-ID of its
own (``vm-thread-post-<id>``, ``vm-thread-<id>-escalated-<person>``) that no delivery's can
equal. Who turned email off (their preference, or the one-click unsubscribe) before it went
gets none: the panel shows the reply and the console the question either way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any, cast

from celery import current_app as celery_app
from flask import current_app
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from lti_tool import clock, jobs
from lti_tool.courses.models import Course, Person
from lti_tool.i18n import N_, _, in_language, reason
from lti_tool.mentoring import copies, links, preferences
from lti_tool.mentoring.channels.base import (
    Mentor,
    Outcome,
    Outgoing,
    Recipient,
    RetryPolicy,
    SendResult,
)
from lti_tool.mentoring.channels.email import EmailChannel, SmtpSettings
from lti_tool.mentors.models import MentorProfile
from lti_tool.threads.models import AuthorRole, Post, Thread, ThreadEmail, ThreadEmailKind
from xapi.outbox import tool_url

log = logging.getLogger(__name__)
SEND_TASK = "threads.send_emails"
SWEEP = "threads.send_due_emails"
OPEN_PANEL = N_("Open your mentor panel in your course to read the conversation and answer.")
OPEN_CONSOLE = N_("Open the mentor console in the course to answer.")
#: The emails' queue, named by row.
EMAILS = copies.RowQueue(cast(Table, ThreadEmail.__table__), "id", "the thread email")
_NO_SERVER = "No SMTP server is set up."
_OPTED_OUT = "They turned email off."


def queue_reply(session: Session, thread: Thread, post: Post) -> None:
    """Queue the learner's email about a mentor's reply, if email is set up and they want
    it: a row in this transaction, a task after its commit."""
    if _wanting(session, [thread.learner_id]):
        _queue(session, [ThreadEmail(
            thread_id=thread.id, post_id=post.id, person_id=thread.learner_id,
            kind=ThreadEmailKind.REPLY, message_key=f"thread-post-{post.id}",
        )])  # fmt: skip


def queue_escalation(session: Session, thread: Thread) -> None:
    """Queue the emails about an escalated thread to those it went to who want email."""
    _queue(session, [ThreadEmail(
        thread_id=thread.id, person_id=person, kind=ThreadEmailKind.ESCALATION,
        message_key=f"thread-{thread.id}-escalated-{person}",
    ) for person in _wanting(session, thread.escalated_to)])  # fmt: skip


def send(session: Session, email_ids: list[int], attempt: int = 1) -> int:
    """Send these queued emails (those still waiting and due: a task run twice sends once);
    how many went. ``attempt`` is the sender's count, for the next task's arguments."""
    config = current_app.config
    lease = float(config["CHANNELS_LEASE_SECONDS"])
    tries = copies.claim(session, EMAILS, email_ids, lease)
    if not tries:
        return 0
    rows = session.scalars(
        select(ThreadEmail).where(ThreadEmail.id.in_(tries)).order_by(ThreadEmail.id)
    ).all()
    wanting = _wanting(session, {row.person_id for row in rows})
    outgoings: dict[str, tuple[int, Outgoing]] = {}
    skipped: list[tuple[int, SendResult]] = []
    for row in rows:
        if not config["SMTP_HOST"] or row.person_id not in wanting:
            why = _OPTED_OUT if config["SMTP_HOST"] else _NO_SERVER
            skipped.append((row.id, SendResult.unavailable(why)))
        else:
            outgoings[row.message_key] = (row.id, _build(session, row))
    session.commit()  # nothing pending while the server is called
    for email_id, result in skipped:
        copies.mark(session, EMAILS, email_id, result, None)
    if not outgoings:
        return 0
    marker = copies.Marker(session, EMAILS, tries, RetryPolicy.from_config(config), lease,
                           key=lambda outgoing: outgoings[outgoing.message_key][0])  # fmt: skip
    results = marker.send(EmailChannel(SmtpSettings.from_config(config)),
                          [outgoing for _id, outgoing in outgoings.values()])  # fmt: skip
    if marker.waits:
        send_later(list(marker.waits), attempt + 1, max(marker.waits.values()))
    return sum(1 for result in results if result.outcome == Outcome.SENT)


def send_due(session: Session) -> int:
    """Send a task for every batch of emails that wait and are due; how many emails."""
    batch = int(current_app.config["MENTORING_DISPATCH_BATCH"])
    found = copies.due_keys(session, EMAILS, limit=batch * 20)
    for start in range(0, len(found), batch):
        send_later(found[start : start + batch])
    return len(found)


def send_later(email_ids: list[int], attempt: int = 1, wait: float = 0) -> Any:
    """Send these queued emails in a task (after ``wait`` s)."""
    return celery_app.send_task(SEND_TASK, args=[email_ids, attempt], countdown=wait or None)


def _queue(session: Session, emails: list[ThreadEmail]) -> None:
    if not emails:
        return
    session.add_all(emails)  # due now (``next_attempt_at``'s default)
    session.flush()
    ids = [email.id for email in emails]
    jobs.call_after_commit(SEND_TASK, lambda: send_later(ids))


def _wanting(session: Session, person_ids: Iterable[int]) -> set[int]:
    """Those of these people who get email (none without an SMTP server)."""
    config = current_app.config
    wanted = list(dict.fromkeys(person_ids))
    if not config["SMTP_HOST"] or not wanted:
        return set()
    policies = preferences.policies(session, wanted, config)
    return {person for person, policy in policies.items() if "email" in policy.channels}


def _build(session: Session, row: ThreadEmail) -> Outgoing:
    thread = session.get_one(Thread, row.thread_id)
    if row.kind is ThreadEmailKind.REPLY:
        return _reply(session, thread, session.get_one(Post, row.post_id))
    return _escalated(session, thread, session.get_one(Person, row.person_id))


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
