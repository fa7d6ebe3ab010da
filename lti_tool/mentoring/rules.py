"""Trigger rules: switched on and off, matched against handed-off learning events (the
engine's hand-off consumer), and backfilled over older events when a mentor asks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.errors import NotFound
from lti_tool.events.handoff import HandedEvent
from lti_tool.events.models import LearningEvent
from lti_tool.events.services import JOINED
from lti_tool.i18n import _
from lti_tool.mentoring import inactivity, journeys, reasons
from lti_tool.mentoring.matching import RuleIndex, RuleSpec
from lti_tool.mentoring.models import RuleAction, TriggerKind, TriggerRule


def spec(rule: TriggerRule) -> RuleSpec:
    """The rule as matching needs it (a "joined" rule matches the learner joining a course:
    their first launch there, or a roster listing them)."""
    if rule.kind == TriggerKind.JOINED:
        return RuleSpec(
            id=rule.id, registration_id=rule.registration_id, sequence_id=rule.sequence_id,
            switched_on_at=rule.switched_on_at or clock.now(), course_id=rule.course_id,
            verb=JOINED, stops=rule.action == RuleAction.STOP, name=rule.name,
        )  # fmt: skip
    return RuleSpec(
        id=rule.id, registration_id=rule.registration_id, sequence_id=rule.sequence_id,
        # A rule not switched on yet (a dry run) acts from now.
        switched_on_at=rule.switched_on_at or clock.now(), course_id=rule.course_id,
        verb=rule.verb,
        topic_id=rule.topic_id, activity_id=rule.activity_id, completion=rule.completion,
        success=rule.success, score_min=rule.score_min, stops=rule.action == RuleAction.STOP,
        name=rule.name,
    )  # fmt: skip


#: The rules learning events act on.
EVENT_KINDS = (TriggerKind.EVENT, TriggerKind.JOINED)


def active_specs(
    session: Session, registration_ids: Iterable[int], kinds: Iterable[TriggerKind] = EVENT_KINDS
) -> list[RuleSpec]:
    """The switched-on rules of these kinds of these registrations."""
    rules = session.scalars(
        select(TriggerRule).where(
            TriggerRule.registration_id.in_(set(registration_ids)),
            TriggerRule.kind.in_(list(kinds)),
            TriggerRule.switched_on_at.is_not(None),
            TriggerRule.switched_off_at.is_(None),
        )
    )
    return [spec(rule) for rule in rules]


def on_events(session: Session, events: Seq[HandedEvent]) -> None:
    """The hand-off consumer: start or stop the journeys the events' rules say."""
    if not events:
        return
    index = RuleIndex(active_specs(session, {event.registration_id for event in events}))
    if len(index):
        apply(session, index, events)


def apply(
    session: Session, index: RuleIndex, events: Iterable[HandedEvent], *, backfill: bool = False
) -> int:
    """Start and stop the journeys the matching rules say; how many journeys started."""
    starts: list[journeys.Start] = []
    stops: dict[int, set[tuple[int, int]]] = defaultdict(set)
    stopped_by: dict[int, str] = {}
    for event in events:
        for rule in index.match(event, backfill=backfill):
            course_id = event.course_id or rule.course_id
            if course_id is None:
                continue  # a journey happens in a course; this event names none
            if rule.stops:
                stops[rule.sequence_id].add((course_id, event.person_id))
                stopped_by[rule.sequence_id] = rule.name or str(rule.id)
            else:
                starts.append(journeys.Start(
                    rule.sequence_id, course_id, event.person_id, _why(rule, event),
                    rule_id=rule.id, event_id=event.id,
                ))  # fmt: skip
    for sequence_id, pairs in stops.items():
        found = journeys.active_journeys(session, sequence_id, pairs)
        name = stopped_by[sequence_id]
        journeys.stop(session, found, reasons.write(reasons.STOPPED_BY_RULE, rule=name),
                      reasons.write(reasons.SKIPPED_BY_RULE, rule=name))  # fmt: skip
    return len(journeys.start(session, starts))


def _why(rule: RuleSpec, event: HandedEvent) -> str:
    at, name = f"{event.occurred_at:%Y-%m-%d %H:%M}", rule.name or rule.id
    if event.verb == JOINED:
        return reasons.write(reasons.JOINED, rule=name, at=at)
    verb = event.verb.rstrip("/").rsplit("/", 1)[-1]
    return reasons.write(reasons.DID, rule=name, verb=verb, activity=event.activity_id, at=at)


def switch(session: Session, rule_id: int, on: bool) -> TriggerRule:
    """Switch a rule on (it acts on events from now) or off."""
    rule = session.get(TriggerRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no trigger rule %(id)s.", id=rule_id))
    if on:
        rule.switched_on_at, rule.switched_off_at = clock.now(), None
    elif rule.switched_off_at is None:
        rule.switched_off_at = clock.now()
    session.flush()
    return rule


def backfill(session: Session, rule_id: int, *, since: datetime | None = None) -> int:
    """Apply a switched-on rule to the handed-off events from before it was switched on
    (from ``since`` if given); how many journeys started."""
    rule = session.get(TriggerRule, rule_id)
    if rule is None or rule.switched_on_at is None or rule.switched_off_at is not None:
        raise NotFound(_("Trigger rule %(id)s is not switched on.", id=rule_id))
    if rule.kind == TriggerKind.INACTIVE:  # who is inactive now, whenever they became so
        return inactivity.start(session, rule, backfill=True)
    index = RuleIndex([spec(rule)])
    query = select(LearningEvent).where(
        LearningEvent.registration_id == rule.registration_id,
        LearningEvent.handed_off_at.is_not(None),
        LearningEvent.person_id.is_not(None),
        LearningEvent.occurred_at < rule.switched_on_at,
    )
    if since is not None:
        query = query.where(LearningEvent.occurred_at >= since)
    events = [handed(row) for row in session.scalars(query.order_by(LearningEvent.id))]
    return apply(session, index, events, backfill=True)


def handed(row: LearningEvent) -> HandedEvent:
    """A stored, handed-off learning event (with its learner) as the engine receives it."""
    return HandedEvent(
        id=row.id, registration_id=row.registration_id, course_id=row.course_id,
        person_id=row.person_id or 0, topic_id=row.topic_id, verb=row.verb,
        activity_id=row.activity_id, completion=row.completion, success=row.success,
        score_scaled=row.score_scaled, occurred_at=row.occurred_at, source=str(row.source),
    )  # fmt: skip
