"""What a learner reads: delivered messages, rendered with their variables, newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

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


_d, _m, _j, _s, _r, _t, _p, _mp = (
    cast(Table, model.__table__)
    for model in (Delivery, Message, Journey, Sequence, Response, Topic, Person, MentorProfile)
)
_mentor, _learner = _p.alias("mentor"), _p.alias("learner")
# Core, built once, plain values: building the statement and loading two ORM objects a row
# cost the panel more than the query itself. ``_item`` reads the columns in this order.
_ROWS = (
    select(
        _d.c.id, _d.c.person_id, _d.c.course_id, _d.c.delivered_at, _d.c.read_at,
        _m.c.id, _m.c.kind, _m.c.title, _m.c.body, _m.c.choices, _m.c.details,
        _r.c.answer, _r.c.text, _r.c.answers,
        func.coalesce(func.nullif(_mp.c.display_name, ""), _mentor.c.name, ""),
        func.coalesce(_t.c.name, ""), _learner.c.given_name, _learner.c.name,
    )
    .join(_m, _m.c.id == _d.c.message_id)
    .join(_j, _j.c.id == _d.c.journey_id)
    .join(_s, _s.c.id == _j.c.sequence_id)
    .join(_learner, _learner.c.id == _d.c.person_id)
    .outerjoin(_t, _t.c.id == func.coalesce(_m.c.topic_id, _s.c.topic_id))
    .outerjoin(_mentor, _mentor.c.id == _d.c.mentor_id)
    .outerjoin(_mp, _mp.c.person_id == _d.c.mentor_id)
    .outerjoin(_r, _r.c.delivery_id == _d.c.id)
)  # fmt: skip
_FEED = (
    _ROWS.where(_d.c.course_id == bindparam("course_id"), _d.c.person_id == bindparam("person_id"),
                _d.c.status == DeliveryStatus.DELIVERED)
    .order_by(_d.c.delivered_at.desc(), _d.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
)  # fmt: skip
_BY_ID = _ROWS.where(_d.c.id.in_(bindparam("ids", expanding=True)))


def feed(
    session: Session, course_id: int, person_id: int, *, limit: int = 50, mark_read: bool = True,
    embed_hosts: Iterable[str] = (),
) -> list[FeedItem]:  # fmt: skip
    """The learner's delivered messages in the course, newest first; unread ones say so
    and are marked read (unless ``mark_read`` is false). Resources that are videos on
    ``embed_hosts`` (``VM_MENTORING_EMBED_HOSTS``) carry their player address."""
    rows = session.execute(
        _FEED, {"course_id": course_id, "person_id": person_id, "limit": limit}
    ).all()
    hosts = list(embed_hosts)
    found = [_item(row, hosts) for row in rows]
    unread = [item.delivery_id for item in found if item.unread]
    if mark_read and unread:
        # ORM, so Delivery objects already in the session see it; only when some are new
        session.execute(
            update(Delivery).where(Delivery.id.in_(unread), Delivery.read_at.is_(None))
            .values(read_at=clock.now())
        )  # fmt: skip
    return found


def items(session: Session, delivery_ids: Iterable[int]) -> dict[int, FeedItem]:
    """Deliveries by id, rendered as the learner sees them (whatever their status)."""
    rows = session.execute(_BY_ID, {"ids": list(set(delivery_ids))}).all()
    return {row[0]: _item(row) for row in rows}


def _item(row: Any, embed_hosts: list[str] | None = None) -> FeedItem:
    (delivery_id, person_id, course_id, delivered_at, read_at, message_id, kind, title, body,
     choices, details, answer, answer_text, answers, mentor, topic, given_name, name,
     ) = row  # fmt: skip
    details = dict(details or {})
    first_name = given_name or (name or "").split(" ")[0] or "there"
    variables = {"first_name": first_name, "topic": topic, "mentor": mentor or "your mentor"}
    return FeedItem(
        delivery_id=delivery_id, message_id=message_id, person_id=person_id,
        course_id=course_id,
        kind=str(kind), title=render.to_text(title, variables),
        html=render.to_html(body, variables),
        text=render.to_text(body, variables), mentor_name=mentor or "",
        topic=topic, delivered_at=delivered_at, unread=read_at is None,
        choices=list(choices or []), details=details,
        answer=answer, answer_text=answer_text or "", answers=dict(answers or {}),
        embed=_embed(kind, details, embed_hosts),
    )  # fmt: skip


def _embed(kind: MessageKind, details: dict[str, Any], hosts: list[str] | None) -> str | None:
    """A resource's player address: a YouTube or Vimeo page's wherever its type says, another
    allowed https page's only for a video or a webinar."""
    if not hosts or kind != MessageKind.RESOURCE:
        return None
    url = str(details.get("url") or "")
    return embeds.embed_url(url, hosts, as_is=str(details.get("type")) in embeds.PLAYABLE_TYPES)
