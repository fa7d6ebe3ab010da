"""Copies of delivered messages beyond the panel, through ``lti_tool/mentoring/channels``.

The panel always has every delivered message (the dispatcher's state change). After a
batch of deliveries commits, the dispatcher sends one ``mentoring.send_copies`` task per
channel with the batch's delivery ids (a broadcast to 10,000 learners is a few tasks, not
10,000): the task renders them (``build``), gives them to the channel in one go
(``send_many``: email reuses one SMTP connection) and sends the ones the channel says to
try again in a later task, after the channel retry policy's wait, until its last attempt.
The copies themselves are rows (``copies``), written with the delivery: the task only hurries
them, and beat's sweep sends whatever a lost task, a dead worker or a down broker left.
A channel failing never touches the panel copy. Email goes where the learner wants it
(their preference, on by default) and an SMTP server is configured; LMS messages and the
webhook go where the organisation set them up (an LMS connection, a webhook endpoint).
Channels are idempotent per delivery (the same ``Message-ID``, ``Idempotency-Key``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from celery import current_app as celery_app
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Course, Person
from lti_tool.events.services import origin
from lti_tool.i18n import _, in_language
from lti_tool.lms.models import LmsConnection
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.mentoring import copies, feed, links, meetings, preferences
from lti_tool.mentoring.channels.base import (
    Mentor,
    Outcome,
    Outgoing,
    Recipient,
    RetryPolicy,
    SendResult,
)
from lti_tool.mentoring.channels.models import WebhookEndpoint
from lti_tool.mentoring.channels.registry import build_registry
from lti_tool.mentoring.models import MessageKind
from lti_tool.mentoring.scheduling import Policy
from xapi.outbox import tool_url

log = logging.getLogger(__name__)
SEND_COPIES = "mentoring.send_copies"
EMAIL, LMS, WEBHOOK = "email", "lms", "webhook"


def available(
    session: Session, config: Mapping[str, Any], course_ids: Iterable[int]
) -> dict[int, set[str]]:
    """Per course, the channels set up for it: email when an SMTP server is configured,
    LMS messages and the webhook where its platform has them (two queries)."""
    registrations = dict(
        session.execute(
            select(Course.id, Deployment.registration_id)
            .join(Deployment, Deployment.id == Course.deployment_id)
            .where(Course.id.in_(set(course_ids)))
        ).all()
    )
    tenants = set(registrations.values())
    set_up: dict[int, set[str]] = {tenant: set() for tenant in tenants}
    for name, model in ((LMS, LmsConnection), (WEBHOOK, WebhookEndpoint)):
        for tenant in session.scalars(select(model.registration_id).where(
            model.registration_id.in_(tenants), model.removed_at.is_(None)
        )):  # fmt: skip
            set_up[tenant].add(name)
    email = {EMAIL} if config["SMTP_HOST"] else set()
    return {course: email | set_up[tenant] for course, tenant in registrations.items()}


def wanted(policy: Policy, set_up: set[str]) -> list[str]:
    """The channels a learner gets copies by: email if they want it, the organisation's."""
    chosen = {EMAIL} & set(policy.channels)
    return sorted((chosen | (set_up - {EMAIL})) & set_up)


def send_later(channel: str, delivery_ids: list[int], attempt: int = 1, wait: float = 0) -> Any:
    """Send the copies of these deliveries by one channel in a task (after ``wait`` s)."""
    return celery_app.send_task(
        SEND_COPIES, args=[channel, delivery_ids, attempt], countdown=wait or None
    )


def build(session: Session, delivery_ids: Sequence[int]) -> list[Outgoing]:
    """The deliveries as channels send them (rendered, with signed answer links)."""
    items = feed.items(session, list(delivery_ids))
    people = {row.id: row for row in session.execute(
        select(Person.id, Person.email, Person.name, Person.given_name, Person.family_name,
               Person.subject, Person.lms_user_id, Person.time_zone, Person.locale,
               Person.registration_id)
        .where(Person.id.in_({item.person_id for item in items.values()}))
    )}  # fmt: skip
    courses = {row.id: row for row in session.execute(
        select(Course.id, Course.title, Course.context_id, PlatformRegistration.issuer,
               PlatformRegistration.product_family)
        .join(Deployment, Deployment.id == Course.deployment_id)
        .join(PlatformRegistration, PlatformRegistration.id == Deployment.registration_id)
        .where(Course.id.in_({item.course_id for item in items.values()}))
    )}  # fmt: skip
    base = tool_url()
    spoken = preferences.languages(session, {row.id: row.locale for row in people.values()})
    found = []
    for delivery_id in delivery_ids:
        item = items.get(delivery_id)
        person = people.get(item.person_id) if item is not None else None
        if item is None or person is None:
            continue
        name = person.name or " ".join(filter(None, [person.given_name, person.family_name]))
        with in_language(spoken[person.id]):
            text, html = _with_kind_parts(item, person.time_zone, base)
            answer_links = tuple(
                (_choice_label(item, choice), base + links.path(delivery_id, choice["key"]))
                for choice in item.choices if "key" in choice
            )  # fmt: skip
        found.append(Outgoing(
            delivery_id=delivery_id, registration_id=person.registration_id,
            recipient=Recipient(person.id, name, person.email, person.subject,
                                person.lms_user_id, person.time_zone, person.locale,
                                spoken[person.id]),
            mentor=Mentor(item.mentor_name), subject=item.title, text=text, html=html,
            answer_links=answer_links,
            category=item.kind, course_title=_title(courses.get(item.course_id)),
            panel_url=course_page(courses.get(item.course_id)),
            unsubscribe_url=base + links.unsubscribe_path(person.id),
        ))  # fmt: skip
    return found


def _choice_label(item: feed.FeedItem, choice: dict[str, Any]) -> str:
    """A choice as the email shows it: a session's answers in the tool's words, translated."""
    session_label = meetings.rsvp_label(choice["key"]) if item.kind == MessageKind.SESSION else ""
    return str(session_label or choice.get("label", choice["key"]))


def _with_kind_parts(item: feed.FeedItem, zone: str | None, base: str) -> tuple[str, str]:
    """The body as text and HTML, with what its kind adds: a session's time, place, join link
    and calendar file; a survey's pointer to the panel, where it is answered."""
    lines: list[tuple[str, str, str | None]] = []  # (label, text, link)
    meeting = meetings.Meeting.of(item.details) if item.kind == MessageKind.SESSION else None
    if meeting is not None:
        lines += [(_("What"), meeting.kind, None), (_("When"), meeting.when(zone), None)]
        if meeting.place:
            lines.append((_("Where"), meeting.place, None))
        if meeting.url:
            lines.append((_("Join"), meeting.url, meeting.url))
        calendar = base + links.calendar_path(item.delivery_id)
        lines.append((_("Calendar"), _("Add to my calendar (.ics)"), calendar))
    elif item.kind == MessageKind.SURVEY:
        lines.append((_("Survey"), _("Answer it in your mentor panel (link below)."), None))
    if not lines:
        return item.text, item.html
    lines = [(_("%(label)s:", label=label), shown, link) for label, shown, link in lines]
    text = (
        item.text.rstrip()
        + "\n\n"
        + "\n".join(
            f"{label} {shown}" + (f" {link}" if link and link != shown else "")
            for label, shown, link in lines
        )
    )
    rows = "".join(
        f"<li><strong>{escape(label)}</strong> "
        + (f'<a href="{escape(link)}">{escape(shown)}</a>' if link else escape(shown))
        + "</li>"
        for label, shown, link in lines
    )
    return text, f"{item.html}\n<ul>{rows}</ul>"


def course_page(course: Any) -> str:
    """The course's page in the LMS, where the mentor tab is, when the tool can tell: a
    Moodle course id is its LTI context id. Elsewhere none (a launch can't be linked)."""
    if course is None or (course.product_family or "").lower() != "moodle":
        return ""
    return f"{origin(course.issuer)}/course/view.php?id={quote(course.context_id)}"


def _title(course: Any) -> str:
    return str(course.title) if course is not None else ""


def send_copies(session: Session, channel_name: str, delivery_ids: list[int], attempt: int) -> int:
    """Give these deliveries' waiting copies to one channel; how many went. Each copy is
    marked as soon as the channel answers for it; the ones to try again wait in the queue
    (``copies``) and a later task is sent for them. ``attempt`` is the sender's count, for
    the task's arguments; the rows keep their own."""
    config = current_app.config
    lease = float(config["CHANNELS_LEASE_SECONDS"])
    queue = copies.channel(channel_name)
    tries = copies.claim(session, queue, delivery_ids, lease)
    if not tries:
        return 0
    channel = build_registry(config, session).get(channel_name)
    order = {delivery: n for n, delivery in enumerate(delivery_ids)}
    outgoings = build(session, sorted(tries, key=lambda delivery: order.get(delivery, 0)))
    session.commit()  # channels read their own settings and call out with nothing pending
    gone = set(tries) - {outgoing.delivery_id for outgoing in outgoings}
    for delivery in gone:  # the delivery or its learner was erased meanwhile
        copies.mark(session, queue, delivery, SendResult.failed(_GONE), None)
    if channel is None:
        log.warning("No %s channel is set up; %d copies not sent", channel_name, len(outgoings))
        unset = SendResult.unavailable(f"No {channel_name} channel is set up.")
        for item in outgoings:
            copies.mark(session, queue, item.delivery_id, unset, None)
        return 0
    marker = copies.Marker(session, queue, tries, RetryPolicy.from_config(config), lease)
    results = marker.send(channel, outgoings)
    if marker.waits:
        send_later(channel_name, list(marker.waits), attempt + 1, max(marker.waits.values()))
    return sum(1 for result in results if result.outcome == Outcome.SENT)


def send_due(session: Session) -> int:
    """Send a task for every batch of copies that wait and are due; how many copies."""
    batch = int(current_app.config["MENTORING_DISPATCH_BATCH"])
    found = copies.due(session, limit=batch * 20)
    for channel, ids in found.items():
        for start in range(0, len(ids), batch):
            send_later(channel, ids[start : start + batch])
    return sum(len(ids) for ids in found.values())


_GONE = "The delivery or its learner no longer exists."
