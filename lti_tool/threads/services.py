"""Asking, replying and answering: every write to a thread, with who may make it.

A learner's question opens a thread addressed to their mentor (``mentors.services.mentor_for``)
or, when the course has none, to the course's mentors. The learner and the course's staff
(mentors, instructors, administrators) and the mentor it is addressed to take part; anyone
else is refused with ``Forbidden``. Each function commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import freshness
from lti_tool.courses.members import STAFF, active_role
from lti_tool.courses.models import Course, Person, Role
from lti_tool.errors import AppError, Forbidden, NotFound
from lti_tool.i18n import _, format_number
from lti_tool.mentoring.answers import Escalation
from lti_tool.mentors.services import mentor_for
from lti_tool.threads import notify
from lti_tool.threads.models import AuthorRole, Post, Thread, ThreadStatus
from xapi import builders, outbox

#: The longest question or reply, in characters.
MAX_BODY = 10_000
#: The longest subject, in characters (the question's first line, cut).
MAX_SUBJECT = 120


def ask(session: Session, course_id: int, learner_id: int, text: str) -> Thread:
    """Open a thread with the learner's question, addressed to their mentor (or the course's
    mentors), and emit the xAPI "asked" statement in the same transaction."""
    body = _body(text)
    if active_role(session, course_id, learner_id) is not Role.LEARNER:
        raise Forbidden(_("Only a learner of this course can ask its mentors a question here."))
    mentor = mentor_for(session, course_id, learner_id)
    thread = _open(session, course_id, learner_id, mentor.person_id if mentor else None, body)
    session.commit()
    return thread


def ask_for_help(session: Session, escalation: Escalation) -> None:
    """The learner answered "I need help": open a thread for them with the mentor who sent
    the message (else their mentor), carrying what they answered. The answer's escalation
    hook (``answers.on_escalation``): it runs in the answer's transaction and does not
    commit."""
    topic = f" (topic “{escalation.topic}”)" if escalation.topic else ""
    lines = [f"I need help with “{escalation.question}”{topic}.",
             f"My answer: {escalation.label or escalation.answer}"]  # fmt: skip
    if escalation.text:
        lines.append(escalation.text)
    mentor_id = escalation.mentor_id
    if mentor_id is None:
        mentor = mentor_for(session, escalation.course_id, escalation.person_id)
        mentor_id = mentor.person_id if mentor else None
    body = "\n".join(lines)[:MAX_BODY]
    _open(session, escalation.course_id, escalation.person_id, mentor_id, body)


def _open(
    session: Session, course_id: int, learner_id: int, mentor_id: int | None, body: str
) -> Thread:
    """A new waiting thread with the learner's first post, emitted as "asked"; not committed."""
    now = clock.now()
    thread = Thread(
        course_id=course_id, learner_id=learner_id, mentor_id=mentor_id,
        subject=_subject(body), status=ThreadStatus.WAITING, opened_at=now,
        last_learner_post_at=now,
    )  # fmt: skip
    thread.posts.append(
        Post(author_id=learner_id, author_role=AuthorRole.LEARNER, body=body, created_at=now)
    )
    session.add(thread)
    session.flush()
    freshness.learner_changed(session, course_id, learner_id)
    _emit_asked(session, thread, body)
    return thread


def reply(session: Session, thread_id: int, author_id: int, text: str) -> Post:
    """Add a post: the learner's own (the thread waits again) or a mentor's (it is answered
    and the learner is told)."""
    body = _body(text)
    thread = _thread(session, thread_id)
    role = side_of(session, thread, author_id)
    if role is None:
        raise Forbidden(_("Only the learner who asked and the course's mentors and instructors "
                          "can reply to this question."))  # fmt: skip
    now = clock.now()
    post = Post(author_id=author_id, author_role=role, body=body, created_at=now)
    thread.posts.append(post)
    if role is AuthorRole.LEARNER:
        thread.status, thread.last_learner_post_at = ThreadStatus.WAITING, now
    else:
        thread.status, thread.answered_at = ThreadStatus.ANSWERED, now
    session.flush()
    freshness.learner_changed(session, thread.course_id, thread.learner_id)
    if role is AuthorRole.MENTOR:
        notify_reply(session, thread, post)
    session.commit()
    return post


def notify_reply(session: Session, thread: Thread, post: Post) -> None:
    """Tell the learner a mentor replied: the thread is unread in the panel
    (``learner_unread_at``), and queues her email (sent after the commit) where she wants email
    (``notify``). It runs in the reply's transaction and does not commit."""
    thread.learner_unread_at = post.created_at
    notify.queue_reply(session, thread, post)


def mark_read(session: Session, thread_id: int, learner_id: int) -> None:
    """The learner read the mentor's reply: the thread is no longer unread."""
    thread = _thread(session, thread_id)
    if thread.learner_id != learner_id:
        raise Forbidden(_("Only the learner who asked can mark this question's answer as read."))
    thread.learner_unread_at = None
    freshness.learner_changed(session, thread.course_id, thread.learner_id)
    session.commit()


def mark_answered(session: Session, thread_id: int, person_id: int) -> Thread:
    """A mentor says the question needs no more answer (answered elsewhere, in a meeting)."""
    thread = _thread(session, thread_id)
    if side_of(session, thread, person_id) is not AuthorRole.MENTOR:
        raise Forbidden(
            _("Only the course's mentors and instructors can mark a question answered.")
        )
    if thread.status is ThreadStatus.WAITING:
        thread.status, thread.answered_at = ThreadStatus.ANSWERED, clock.now()
        freshness.learner_changed(session, thread.course_id, thread.learner_id)
    session.commit()
    return thread


def close(session: Session, thread_id: int, person_id: int) -> Thread:
    """The learner or a mentor closes the thread; a later post opens it again."""
    thread = _thread(session, thread_id)
    if side_of(session, thread, person_id) is None:
        raise Forbidden(_("Only the learner who asked and the course's mentors can close it."))
    thread.status = ThreadStatus.CLOSED
    freshness.learner_changed(session, thread.course_id, thread.learner_id)
    session.commit()
    return thread


def readable(session: Session, thread_id: int, person_id: int) -> Thread:
    """The thread with its posts, if this person may read it; else ``Forbidden``."""
    thread = _thread(session, thread_id)
    if side_of(session, thread, person_id) is None:
        raise Forbidden(_("This question belongs to another learner."))
    return thread


def side_of(session: Session, thread: Thread, person_id: int) -> AuthorRole | None:
    """Which side the person takes in the thread: the learner who asked, a mentor (the one
    it is addressed to, or the course's active staff), or none (no access)."""
    if person_id == thread.learner_id:
        return AuthorRole.LEARNER
    if person_id == thread.mentor_id or active_role(session, thread.course_id, person_id) in STAFF:
        return AuthorRole.MENTOR
    return None


def _thread(session: Session, thread_id: int) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(_("There is no question thread %(id)s.", id=thread_id))
    return thread


def _body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise AppError(_("Write your message first: it is empty."))
    if len(body) > MAX_BODY:
        raise AppError(_("Messages are limited to %(limit)s characters; this one has %(count)s.",
                         limit=format_number(MAX_BODY),
                         count=format_number(len(body))))  # fmt: skip
    return body


def _subject(body: str) -> str:
    first = body.splitlines()[0].strip()
    return first if len(first) <= MAX_SUBJECT else first[: MAX_SUBJECT - 1].rstrip() + "…"


def _emit_asked(session: Session, thread: Thread, body: str) -> None:
    course = session.get_one(Course, thread.course_id)
    learner = session.get_one(Person, thread.learner_id)
    registration = course.deployment.registration
    scene = builders.Scene.of(outbox.tool_url(), registration, learner, course)
    statement = builders.asked_question(
        scene, question_id=thread.id, text=body, at=thread.opened_at
    )
    outbox.emit(session, registration.id, statement)
