"""Learning-event housekeeping."""

from __future__ import annotations

from celery import shared_task

from lti_tool.events import handoff
from lti_tool.events.services import resolve_actors
from lti_tool.extensions import db


@shared_task(name="events.resolve_actors")
def resolve_unresolved_actors() -> int:
    """Give events whose learner was unknown their person, now the tool may know them."""
    return resolve_actors(db.session())


@shared_task(name=handoff.TASK)
def hand_off_events() -> int:
    """Hand waiting learning events to the mentoring engine (woken after commits, and swept)."""
    return handoff.hand_off(db.session())
