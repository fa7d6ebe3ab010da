"""Question-thread housekeeping and emails."""

from __future__ import annotations

from celery import shared_task

from lti_tool.extensions import db
from lti_tool.mentoring import answers
from lti_tool.threads import notify, services
from lti_tool.threads.escalation import escalate_due

answers.on_escalation(services.ask_for_help)  # "need help" opens a thread (create_app too)


@shared_task(name="threads.escalate_due")
def escalate_due_threads() -> int:
    """Escalate questions that have waited longer than VM_THREADS_ESCALATE_HOURS."""
    return escalate_due(db.session())


@shared_task(name=notify.REPLY_TASK)
def email_reply(post_id: int, attempt: int = 1) -> int:
    """Email the learner a mentor's reply (once; retried per the channel retry policy)."""
    return notify.email_reply(db.session(), post_id, attempt)


@shared_task(name=notify.ESCALATION_TASK)
def email_escalation(thread_id: int, person_ids: list[int] | None = None, attempt: int = 1) -> int:
    """Email the people an escalated question went to (once; retried per the policy)."""
    return notify.email_escalation(db.session(), thread_id, person_ids, attempt)
