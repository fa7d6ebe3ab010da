"""What a learner reads: delivered messages, rendered with their variables, newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from lti_tool import clock
from lti_tool.courses.models import Person
from lti_tool.mentoring import embeds, render
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    Message,
    MessageKind,
    Response,
    Sequence,
)
from lti_tool.mentors.models import MentorProfile
from lti_tool.topics.models import Topic

_Mentor = aliased(Person)
_Learner = aliased(Person)


@dataclass(frozen=True)
class FeedItem:
    """One delivered message as the learner sees it."""

    delivery_id: int
    message_id: int
    person_id: int
    course_id: int
    kind: str
    title: str
    html: str
    text: str
    mentor_name: str
    topic: str
    delivered_at: datetime | None
    unread: bool
    choices: list[dict[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    answer_text: str = ""
    #: A survey's recorded answers, by item key.
    answers: dict[str, Any] = field(default_factory=dict)
    #: The player address a resource plays at in the panel (``embeds.embed_url``), if any.
    embed: str | None = None

    @property
    def link(self) -> str | None:
        """A resource's or session's address, only if it is http(s)."""
        url = str(self.details.get("url") or "")
        return url if url.startswith(("https://", "http://")) else None

    @property
    def answer_label(self) -> str | None:
        """The label of the recorded answer, if there is one."""
        labels = {choice.get("key"): choice.get("label") for choice in self.choices}
        return None if self.answer is None else labels.get(self.answer) or self.answer


def _query() -> Any:
    mentor_name = func.coalesce(func.nullif(MentorProfile.display_name, ""), _Mentor.name, "")
    return (
        select(Delivery, Message, Response.answer, Response.text, Response.answers, mentor_name,
               func.coalesce(Topic.name, ""), _Learner.given_name, _Learner.name)
        .join(Message, Message.id == Delivery.message_id)
        .join(Journey, Journey.id == Delivery.journey_id)
        .join(Sequence, Sequence.id == Journey.sequence_id)
        .join(_Learner, _Learner.id == Delivery.person_id)
        .outerjoin(Topic, Topic.id == func.coalesce(Message.topic_id, Sequence.topic_id))
        .outerjoin(_Mentor, _Mentor.id == Delivery.mentor_id)
        .outerjoin(MentorProfile, MentorProfile.person_id == Delivery.mentor_id)
        .outerjoin(Response, Response.delivery_id == Delivery.id)
    )  # fmt: skip


def feed(
    session: Session, course_id: int, person_id: int, *, limit: int = 50, mark_read: bool = True,
    embed_hosts: Iterable[str] = (),
) -> list[FeedItem]:  # fmt: skip
    """The learner's delivered messages in the course, newest first; unread ones say so
    and are marked read (unless ``mark_read`` is false). Resources that are videos on
    ``embed_hosts`` (``VM_MENTORING_EMBED_HOSTS``) carry their player address."""
    rows = session.execute(
        _query()
        .where(Delivery.course_id == course_id, Delivery.person_id == person_id,
               Delivery.status == DeliveryStatus.DELIVERED)
        .order_by(Delivery.delivered_at.desc(), Delivery.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    hosts = list(embed_hosts)
    found = [_item(row, hosts) for row in rows]
    unread = [item.delivery_id for item in found if item.unread]
    if mark_read and unread:
        session.execute(
            update(Delivery).where(Delivery.id.in_(unread), Delivery.read_at.is_(None))
            .values(read_at=clock.now())
        )  # fmt: skip
    return found


def items(session: Session, delivery_ids: Iterable[int]) -> dict[int, FeedItem]:
    """Deliveries by id, rendered as the learner sees them (whatever their status)."""
    rows = session.execute(_query().where(Delivery.id.in_(set(delivery_ids)))).all()
    return {row[0].id: _item(row) for row in rows}


def _item(row: Any, embed_hosts: list[str] | None = None) -> FeedItem:
    delivery, message, answer, answer_text, answers, mentor, topic, given_name, name = row
    details = dict(message.details or {})
    first_name = given_name or (name or "").split(" ")[0] or "there"
    variables = {"first_name": first_name, "topic": topic, "mentor": mentor or "your mentor"}
    return FeedItem(
        delivery_id=delivery.id, message_id=message.id, person_id=delivery.person_id,
        course_id=delivery.course_id,
        kind=str(message.kind), title=render.to_text(message.title, variables),
        html=render.to_html(message.body, variables),
        text=render.to_text(message.body, variables), mentor_name=mentor or "",
        topic=topic, delivered_at=delivery.delivered_at, unread=delivery.read_at is None,
        choices=list(message.choices or []), details=details,
        answer=answer, answer_text=answer_text or "", answers=dict(answers or {}),
        embed=_embed(message, details, embed_hosts),
    )  # fmt: skip


def _embed(message: Message, details: dict[str, Any], hosts: list[str] | None) -> str | None:
    """A resource's player address: a YouTube or Vimeo page's wherever its type says, another
    allowed https page's only for a video or a webinar."""
    if not hosts or message.kind != MessageKind.RESOURCE:
        return None
    url = str(details.get("url") or "")
    return embeds.embed_url(url, hosts, as_is=str(details.get("type")) in embeds.PLAYABLE_TYPES)
