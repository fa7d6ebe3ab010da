"""Learning-event housekeeping."""

from __future__ import annotations

from celery import shared_task

from lti_tool.events.services import resolve_actors
from lti_tool.extensions import db


@shared_task(name="events.resolve_actors")
def resolve_unresolved_actors() -> int:
    """Give events whose learner was unknown their person, now the tool may know them."""
    return resolve_actors(db.session())
