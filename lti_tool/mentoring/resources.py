"""Resources a mentor sends (a video, a webinar recording, a whitepaper, a link): opening one
from the panel is told to the LRS, then the learner goes to the resource's own address."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Course, Person
from lti_tool.errors import NotFound
from lti_tool.i18n import _
from lti_tool.mentoring.feed import items
from lti_tool.mentoring.models import MessageKind
from xapi import builders, outbox

#: xAPI activity types by a resource's ``details.type``.
ACTIVITY_TYPES = {"video": builders.MEDIA, "webinar": builders.MEDIA,
                  "whitepaper": builders.FILE}  # fmt: skip


def opened(session: Session, delivery_id: int, person_id: int) -> str:
    """Record that the learner opened the resource delivered to them (a statement in the
    outbox); its address, to send them on to."""
    item = items(session, [delivery_id]).get(delivery_id)
    if item is None or item.person_id != person_id or item.link is None:
        raise NotFound(_("There is no such resource to open."))
    if item.kind == MessageKind.RESOURCE:
        person = session.get_one(Person, person_id)
        course = session.get_one(Course, item.course_id)
        scene = builders.Scene.of(outbox.tool_url(), person.registration, person, course)
        kind = ACTIVITY_TYPES.get(str(item.details.get("type")), builders.LINK)
        outbox.emit(session, person.registration_id, builders.opened_resource(
            scene, resource_id=item.message_id, title=item.title, url=item.link,
            at=clock.now(), activity_type=kind,
        ))  # fmt: skip
    return item.link
