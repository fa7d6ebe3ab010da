"""The engine's tasks: the dispatcher (beat, and woken after commits), channel copies (and
their sweep), the inactivity sweep and the session reminders (beat).

Importing this module registers the engine as the hand-off's consumer (workers import it
through ``TASK_MODULES``; ``create_app`` registers it for every process as well).
"""

from __future__ import annotations

from celery import shared_task

from lti_tool.events import handoff
from lti_tool.extensions import db
from lti_tool.mentoring import copies, dispatch, inactivity, outgoing, reminders, rules, wake

handoff.register(rules.on_events)


@shared_task(name=wake.TASK)
def dispatch_due() -> int:
    """Deliver the deliveries that are due (safe to run any number of times at once)."""
    return dispatch.dispatch_due(db.session())


@shared_task(name=outgoing.SEND_COPIES)
def send_copies(channel: str, delivery_ids: list[int], attempt: int = 1) -> int:
    """Send delivered messages' copies by one channel (retried in later tasks)."""
    return outgoing.send_copies(db.session(), channel, delivery_ids, attempt)


@shared_task(name=copies.SWEEP)
def send_due_copies() -> int:
    """Send the channel copies that wait and are due (a lost task, a dead worker, a retry)."""
    return outgoing.send_due(db.session())


@shared_task(name=inactivity.TASK)
def start_inactive() -> int:
    """Start inactivity rules' sequences for the learners who became inactive."""
    return inactivity.sweep(db.session())


@shared_task(name=reminders.TASK)
def remind_sessions() -> int:
    """Send the automatic reminders of sessions starting soon (safe to run twice at once)."""
    return reminders.sweep(db.session())
