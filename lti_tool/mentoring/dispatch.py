"""The dispatcher: claims due deliveries in batches, applies each learner's opt-outs, quiet
hours and daily cap, delivers in the panel, and hands copies to the learner's other channels.

Batches are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and every change is made
only ``WHERE`` the delivery is still waiting, so any number of dispatchers can run at once
and each delivery is delivered once. The panel copy is a state change in the claiming
transaction; so are the copies other channels owe (``copies``: rows written with the batch),
and one task per channel and batch after commit sends them (``outgoing``), so a failing email
or webhook never holds back the panel copy, and a lost task only delays a copy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import freshness
from lti_tool.jobs import call_after_commit
from lti_tool.mentoring import copies as copies_queue
from lti_tool.mentoring import outgoing, preferences, reasons
from lti_tool.mentoring.journeys import WAITING, waiting
from lti_tool.mentoring.models import Delivery, DeliveryStatus, Message
from lti_tool.mentoring.scheduling import Decision, Policy, Verdict, decide, local_day_start
from lti_tool.mentors.models import MentorProfile, Mentorship
from lti_tool.mentors.services import mentor_for

_DELIVERIES = cast(Table, Delivery.__table__)
_CLAIM = (
    select(_DELIVERIES.c.id, _DELIVERIES.c.person_id, _DELIVERIES.c.course_id, Message.kind)
    .join(Message, Message.id == _DELIVERIES.c.message_id)
    .where(_DELIVERIES.c.status.in_(WAITING), _DELIVERIES.c.due_at <= bindparam("now"))
    .order_by(_DELIVERIES.c.due_at, _DELIVERIES.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=_DELIVERIES)
)
_STILL_WAITING = (_DELIVERIES.c.id == bindparam("delivery"), waiting(_DELIVERIES.c.status))
_DELIVER = update(_DELIVERIES).where(*_STILL_WAITING).values(
    status=DeliveryStatus.DELIVERED, delivered_at=bindparam("now"), mentor_id=bindparam("mentor"),
    reason=reasons.DELIVERED,
)  # fmt: skip
_HOLD = (
    update(_DELIVERIES)
    .where(*_STILL_WAITING)
    .values(status=DeliveryStatus.HELD, due_at=bindparam("until"), reason=bindparam("why"))
)
_SKIP = (
    update(_DELIVERIES)
    .where(*_STILL_WAITING)
    .values(status=DeliveryStatus.SKIPPED, reason=bindparam("why"))
)


def dispatch_due(session: Session, *, batch: int | None = None) -> int:
    """Deliver, hold or skip every due delivery, a batch per transaction; how many were
    delivered."""
    batch = batch or int(current_app.config["MENTORING_DISPATCH_BATCH"])
    delivered = 0
    while True:
        now = clock.now()
        rows = session.execute(_CLAIM, {"now": now, "limit": batch}).all()
        if rows:
            delivered += _dispatch_batch(session, rows, now)
        session.commit()
        if len(rows) < batch:
            return delivered


def _dispatch_batch(session: Session, rows: Sequence[Any], now: datetime) -> int:
    people = {row.person_id for row in rows}
    policy = preferences.policies(session, people, current_app.config)
    today = _delivered_today(session, policy, now)
    deliver, hold, skip = [], [], []
    changed: set[tuple[int, int]] = set()  # (course, learner) whose panel a delivery changes
    copies: dict[str, list[int]] = {}
    mentors = _Mentors(session, {(row.course_id, row.person_id) for row in rows})
    set_up = outgoing.available(session, current_app.config, {row.course_id for row in rows})
    for row in rows:
        learner = policy.get(row.person_id, Policy())
        decision: Decision = decide(now, learner, str(row.kind), today[row.person_id])
        if decision.verdict == Verdict.DELIVER:
            today[row.person_id] += 1
            mentor = mentors.of(row.course_id, row.person_id)
            deliver.append({"delivery": row.id, "now": now, "mentor": mentor})
            changed.add((row.course_id, row.person_id))
            for name in outgoing.wanted(learner, set_up.get(row.course_id, set())):
                copies.setdefault(name, []).append(row.id)
        elif decision.verdict == Verdict.HOLD:
            hold.append({"delivery": row.id, "until": decision.until, "why": decision.reason})
        else:
            skip.append({"delivery": row.id, "why": decision.reason})
    freshness.learners_changed(session, changed)
    connection = session.connection()
    for statement, params in ((_DELIVER, deliver), (_HOLD, hold), (_SKIP, skip)):
        if params:
            connection.execute(statement, params)
    copies_queue.add(session, copies, now)  # the rows are the queue; the task only hurries it
    for name, ids in copies.items():  # one task per channel for the whole batch
        call_after_commit(outgoing.SEND_COPIES, _sender(name, ids))
    return len(deliver)


def _sender(channel: str, delivery_ids: list[int]) -> Any:
    return lambda: outgoing.send_later(channel, delivery_ids)


def _delivered_today(session: Session, policy: dict[int, Policy], now: datetime) -> Counter[int]:
    """How many deliveries each capped learner got since their local midnight."""
    capped = [person for person, p in policy.items() if p.daily_cap is not None]
    counts: Counter[int] = Counter(dict.fromkeys(policy, 0))
    if not capped:
        return counts
    recent = session.execute(
        select(Delivery.person_id, Delivery.delivered_at).where(
            Delivery.person_id.in_(capped),
            Delivery.status == DeliveryStatus.DELIVERED,
            Delivery.delivered_at >= now - timedelta(days=1, hours=14),  # widest zone offset
        )
    ).all()
    starts = {person: local_day_start(now, policy[person].zone) for person in capped}
    for person, at in recent:
        if at is not None and at >= starts[person]:
            counts[person] += 1
    return counts


class _Mentors:
    """Who each learner's mentor is, for a batch: paired mentors in one query, the course's
    default (``mentor_for``) once per course."""

    def __init__(self, session: Session, pairs: Iterable[tuple[int, int]]) -> None:
        self._session = session
        wanted = set(pairs)
        rows = session.execute(
            select(Mentorship.course_id, Mentorship.mentee_id, func.min(Mentorship.mentor_id))
            .join(MentorProfile, MentorProfile.person_id == Mentorship.mentor_id)
            .where(Mentorship.mentee_id.in_({person for _c, person in wanted}),
                   Mentorship.ended_at.is_(None))
            .group_by(Mentorship.course_id, Mentorship.mentee_id)
        ).all()  # fmt: skip
        self._paired = {(c, m): mentor for c, m, mentor in rows if (c, m) in wanted}
        self._default: dict[int, int | None] = {}

    def of(self, course_id: int, person_id: int) -> int | None:
        """The mentor's person id, or none when the course has no mentor."""
        if (found := self._paired.get((course_id, person_id))) is not None:
            return int(found)
        if course_id not in self._default:
            mentor = mentor_for(self._session, course_id, person_id)
            self._default[course_id] = mentor.person_id if mentor else None
        return self._default[course_id]
