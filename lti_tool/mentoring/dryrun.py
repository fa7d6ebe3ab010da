"""A dry run: who a rule would reach and what they would get when, before it is switched on.
Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.errors import NotFound
from lti_tool.events.models import LearningEvent
from lti_tool.i18n import _
from lti_tool.mentoring import inactivity, journeys, rules
from lti_tool.mentoring.matching import RuleIndex
from lti_tool.mentoring.models import Journey, TriggerKind, TriggerRule
from lti_tool.topics.models import Topic


@dataclass(frozen=True)
class Planned:
    """One delivery the rule would make."""

    person_id: int
    course_id: int
    step: str
    due_at: datetime


def dry_run(session: Session, rule_id: int, *, since: datetime | None = None) -> list[Planned]:
    """What the rule would send for the handed-off events since ``since`` (default: the
    last 30 days), were they to happen from now on; learners already on the sequence are
    left out, as the rule would leave them. An inactivity rule lists who is inactive on its
    topic now."""
    rule = session.get(TriggerRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no trigger rule %(id)s.", id=rule_id))
    now = clock.now()
    steps = journeys.main_steps(session, {rule.sequence_id}).get(rule.sequence_id, [])
    if rule.kind == TriggerKind.INACTIVE:
        return _inactive(session, rule, now, steps)
    since = since or now - timedelta(days=30)
    rows = session.scalars(
        select(LearningEvent).where(
            LearningEvent.registration_id == rule.registration_id,
            LearningEvent.person_id.is_not(None), LearningEvent.handed_off_at.is_not(None),
            LearningEvent.occurred_at >= since,
        ).order_by(LearningEvent.id)
    )  # fmt: skip
    index = RuleIndex([rules.spec(rule)])
    already = {
        (row.course_id, row.person_id)
        for row in session.execute(
            select(Journey.course_id, Journey.person_id)
            .where(Journey.sequence_id == rule.sequence_id)
        )
    }  # fmt: skip
    reached: dict[tuple[int, int], None] = {}
    for event in map(rules.handed, rows):
        course_id = event.course_id or rule.course_id
        if course_id is not None and index.match(event, backfill=True):
            reached.setdefault((course_id, event.person_id), None)
    pairs = [pair for pair in reached if pair not in already]
    return _planned(pairs, steps, now)


def _inactive(
    session: Session, rule: TriggerRule, now: datetime, steps: list[journeys.StepInfo]
) -> list[Planned]:
    """Who is inactive on the rule's topic now (however long ago they became so) and not on
    the sequence yet."""
    topic = session.get(Topic, rule.topic_id) if inactivity.usable(rule) else None
    if topic is None:
        return []
    found = inactivity.inactive(session, rule, topic, now, backfill=True)
    return _planned([(row.course_id, row.person_id) for row in found], steps, now)


def _planned(
    pairs: list[tuple[int, int]], steps: list[journeys.StepInfo], now: datetime
) -> list[Planned]:
    return [
        Planned(person_id, course_id, step.key, now + timedelta(seconds=step.offset_seconds or 0))
        for course_id, person_id in pairs
        for step in steps
    ]
