"""Journeys: started by rules (or a mentor), each main step scheduled as a delivery at its
offset, stopped by an answer, a stop rule or an opt-out. Starting twice starts once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.database import insert_new, with_defaults
from lti_tool.mentoring import reasons, wake
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    JourneyStatus,
    Sequence,
    Step,
)

_JOURNEYS = cast(Table, Journey.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
WAITING = (DeliveryStatus.SCHEDULED, DeliveryStatus.HELD)


def waiting(status: ColumnElement[Any]) -> ColumnElement[bool]:
    """A delivery still waiting to go, written without IN (executemany refuses expanding
    parameters)."""
    return or_(status == DeliveryStatus.SCHEDULED, status == DeliveryStatus.HELD)


@dataclass(frozen=True)
class Start:
    """Who starts which sequence, in which course, why."""

    sequence_id: int
    course_id: int
    person_id: int
    reason: str
    rule_id: int | None = None
    event_id: int | None = None


def start(session: Session, starts: Iterable[Start], *, now: datetime | None = None) -> list[int]:
    """Start the journeys not started before and schedule their main steps; the new ids."""
    now = now or clock.now()
    unique = {(s.sequence_id, s.course_id, s.person_id): s for s in starts}.values()
    rows = [_journey_row(s, now) for s in unique]
    keys = ["sequence_id", "course_id", "person_id"]
    new_ids = insert_new(session, _JOURNEYS, rows, keys=keys, returning="id")
    if new_ids:
        _schedule_main_steps(session, new_ids, now)
    return [int(i) for i in new_ids]


def _journey_row(s: Start, now: datetime) -> dict[str, object]:
    return with_defaults(Journey, {
        "sequence_id": s.sequence_id, "course_id": s.course_id, "person_id": s.person_id,
        "rule_id": s.rule_id, "event_id": s.event_id, "start_reason": s.reason,
        "started_at": now, "status": JourneyStatus.ACTIVE,
    })  # fmt: skip


def _schedule_main_steps(session: Session, journey_ids: list[int], now: datetime) -> None:
    journeys = session.execute(
        select(Journey.id, Journey.sequence_id, Journey.course_id, Journey.person_id)
        .where(Journey.id.in_(journey_ids))
    ).all()  # fmt: skip
    steps = main_steps(session, {j.sequence_id for j in journeys})
    rows = []
    for journey in journeys:
        for step in steps.get(journey.sequence_id, []):
            due = now + timedelta(seconds=step.offset_seconds or 0)
            rows.append(delivery_row(journey, step, due, 0, _scheduled_reason(step)))
    add_deliveries(session, rows, now)


def _scheduled_reason(step: StepInfo) -> str:
    days, seconds = divmod(step.offset_seconds or 0, 86400)
    where = {"plan": step.sequence_name, "step": step.key}
    if not days:
        return reasons.write(reasons.AFTER_MINUTES, minutes=seconds // 60, **where)
    return reasons.write(reasons.AFTER_DAY if days == 1 else reasons.AFTER_DAYS, days=days, **where)


@dataclass(frozen=True)
class StepInfo:
    """A step as scheduling needs it."""

    id: int
    sequence_id: int
    sequence_name: str
    key: str
    message_id: int
    offset_seconds: int | None


def main_steps(session: Session, sequence_ids: set[int]) -> dict[int, list[StepInfo]]:
    """Each sequence's steps that have an offset, in offset order."""
    rows = session.execute(
        select(Step.id, Step.sequence_id, Sequence.name, Step.key, Step.message_id,
               Step.offset_seconds)
        .join(Sequence, Sequence.id == Step.sequence_id)
        .where(Step.sequence_id.in_(sequence_ids), Step.offset_seconds.is_not(None))
        .order_by(Step.offset_seconds, Step.id)
    ).all()  # fmt: skip
    found: dict[int, list[StepInfo]] = {}
    for row in rows:
        found.setdefault(row.sequence_id, []).append(StepInfo(*row))
    return found


class JourneyRef(Protocol):
    """A journey as a delivery needs it (a row or a model)."""

    @property
    def id(self) -> int: ...
    @property
    def course_id(self) -> int: ...
    @property
    def person_id(self) -> int: ...


def delivery_row(
    journey: JourneyRef, step: StepInfo, due: datetime, round_: int, reason: str
) -> dict[str, object]:
    """A delivery of ``step`` on ``journey``, due at ``due``."""
    return {
        "journey_id": journey.id, "step_id": step.id, "round": round_,
        "person_id": journey.person_id, "course_id": journey.course_id,
        "message_id": step.message_id, "status": DeliveryStatus.SCHEDULED, "reason": reason,
        "due_at": due,
    }  # fmt: skip


def add_deliveries(session: Session, rows: list[dict[str, object]], now: datetime) -> int:
    """Insert deliveries not already there (one per journey, step and round); wake the
    dispatcher after commit when one is due already. How many were new."""
    keys = ["journey_id", "step_id", "round"]
    new = insert_new(session, _DELIVERIES, rows, keys=keys, returning="id")
    if new and any(cast(datetime, row["due_at"]) <= now for row in rows):
        wake.dispatcher_after_commit()
    return len(new)


_STOP = (
    update(_JOURNEYS)
    .where(_JOURNEYS.c.id == bindparam("journey"), _JOURNEYS.c.status == JourneyStatus.ACTIVE)
    .values(status=JourneyStatus.STOPPED, stopped_at=bindparam("now"),
            stop_reason=bindparam("why"))
)  # fmt: skip
_SKIP_REST = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.journey_id == bindparam("journey"), waiting(_DELIVERIES.c.status))
    .values(status=DeliveryStatus.SKIPPED, reason=bindparam("why"))
)


def stop(session: Session, journey_ids: Iterable[int], stopped: str, skipped: str) -> None:
    """Stop the journeys saying ``stopped``; what they had waiting is skipped saying
    ``skipped`` (both English sentences of ``reasons``, translated where shown)."""
    now = clock.now()
    ids = list(journey_ids)
    if ids:
        session.execute(_STOP, [{"journey": j, "now": now, "why": stopped} for j in ids])
        session.execute(_SKIP_REST, [{"journey": j, "why": skipped} for j in ids])


def active_journeys(
    session: Session, sequence_id: int, pairs: Iterable[tuple[int, int]]
) -> list[int]:
    """The active journeys of the sequence for these (course, person) pairs."""
    wanted = set(pairs)
    if not wanted:
        return []
    rows = session.execute(
        select(Journey.id, Journey.course_id, Journey.person_id).where(
            Journey.sequence_id == sequence_id,
            Journey.status == JourneyStatus.ACTIVE,
            Journey.person_id.in_({person for _course, person in wanted}),
        )
    ).all()
    return [row.id for row in rows if (row.course_id, row.person_id) in wanted]
