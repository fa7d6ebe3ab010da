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


@shared_task(name=notify.SEND_TASK)
def send_emails(email_ids: list[int], attempt: int = 1) -> int:
    """Send queued thread emails (once each; retried per the channel retry policy)."""
    return notify.send(db.session(), email_ids, attempt)


@shared_task(name=notify.SWEEP)
def send_due_emails() -> int:
    """Send the thread emails that wait and are due (a lost task, a dead worker, a retry)."""
    return notify.send_due(db.session())
