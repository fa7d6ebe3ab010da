"""Inactivity rules: "no activity on a topic for N days" starts the rule's sequence.

Beat runs ``mentoring.inactivity`` every VM_MENTORING_INACTIVITY_SECONDS. Per switched-on
inactivity rule, one aggregate query finds the learners whose latest learning event on the
rule's topic (in the rule's course, or any course of its registration) is older than N days,
and starts the sequence for them (``journeys.start``: once per sequence, course and
learner, however often the sweep runs).

A learner who never had an event on the topic counts from joining the course (their
``joined`` event: first launch or roster listing), but only where the course is known to
teach the topic: the rule names a course, or the topic belongs to one. A library topic with a
registration-wide rule reaches only learners who began it, since nothing says the other
courses teach it. Only active learner enrollments are reached: someone who left the course
is not nudged.

Like every rule, an inactivity rule acts only on what happens after it was switched on: the
moment a learner became inactive (last activity + N days) must be after ``switched_on_at``.
A backfill (``rules.backfill``) drops that condition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Enrollment, EnrollmentStatus, Role
from lti_tool.events.models import LearningEvent
from lti_tool.events.services import JOINED
from lti_tool.mentoring import journeys, reasons
from lti_tool.mentoring.models import Journey, RuleAction, TriggerKind, TriggerRule
from lti_tool.topics.models import Topic

log = logging.getLogger(__name__)
TASK = "mentoring.inactivity"


@dataclass(frozen=True)
class Window:
    """The last-activity times that make a learner newly inactive: before ``before`` and,
    unless backfilling, after ``after``."""

    before: datetime
    after: datetime | None = None

    def holds(self, last_at: datetime) -> bool:
        """Whether a learner last active at ``last_at`` falls in the window."""
        return last_at < self.before and (self.after is None or last_at > self.after)


def window(now: datetime, days: int, switched_on_at: datetime, *, backfill: bool = False) -> Window:
    """Inactive for more than ``days`` at ``now``, having become so (last activity + days)
    after the rule was switched on, unless backfilling."""
    span = timedelta(days=days)
    return Window(before=now - span, after=None if backfill else switched_on_at - span)


def reason(topic: str, last_on_topic: datetime | None, last_at: datetime) -> str:
    """Why the journey started, in words, for the learner's timeline."""
    if last_on_topic is None:
        return reasons.write(reasons.IDLE_SINCE_JOINING, topic=topic, day=f"{last_at:%Y-%m-%d}")
    return reasons.write(reasons.IDLE_SINCE, topic=topic, day=f"{last_on_topic:%Y-%m-%d}")


@dataclass(frozen=True)
class Inactive:
    """A learner an inactivity rule reaches: course, person, last activity (or joining)."""

    course_id: int
    person_id: int
    last_at: datetime
    #: The last event on the topic; none if they never had one (``last_at`` is the joining).
    last_on_topic: datetime | None


def usable(rule: TriggerRule) -> bool:
    """Whether an inactivity rule says what it needs: a topic and a positive number of days."""
    return rule.topic_id is not None and (rule.inactive_days or 0) > 0


def inactive(
    session: Session, rule: TriggerRule, topic: Topic, now: datetime, *, backfill: bool = False
) -> list[Inactive]:
    """The learners the rule reaches now who are not on its sequence yet (one query)."""
    found = window(now, rule.inactive_days or 0, rule.switched_on_at or now, backfill=backfill)
    course_id = rule.course_id or topic.course_id
    on_topic = LearningEvent.topic_id == topic.id
    counted: Any = on_topic
    if course_id is not None:  # joining the course starts the count for who never began
        counted = or_(on_topic, and_(LearningEvent.verb == JOINED,
                                     LearningEvent.course_id == course_id))  # fmt: skip
    last = func.max(LearningEvent.occurred_at)
    started = exists().where(
        Journey.sequence_id == rule.sequence_id, Journey.course_id == LearningEvent.course_id,
        Journey.person_id == LearningEvent.person_id,
    )  # fmt: skip
    query = (
        select(LearningEvent.course_id, LearningEvent.person_id, last,
               func.max(case((on_topic, LearningEvent.occurred_at))))
        .join(Enrollment, and_(Enrollment.course_id == LearningEvent.course_id,
                               Enrollment.person_id == LearningEvent.person_id))
        .where(LearningEvent.registration_id == rule.registration_id, counted,
               Enrollment.role == Role.LEARNER, Enrollment.status == EnrollmentStatus.ACTIVE,
               ~started)
        .group_by(LearningEvent.course_id, LearningEvent.person_id)
        .having(last < found.before)
    )  # fmt: skip
    if course_id is not None:
        query = query.where(LearningEvent.course_id == course_id)
    if found.after is not None:
        query = query.having(last > found.after)
    return [Inactive(*row) for row in session.execute(query)]


def start(session: Session, rule: TriggerRule, *, backfill: bool = False) -> int:
    """Start the rule's sequence for the learners it reaches now; how many started. Does
    not commit."""
    topic = session.get(Topic, rule.topic_id) if usable(rule) else None
    if topic is None:
        log.warning("Inactivity rule %s needs a topic and a number of days; skipped", rule.id)
        return 0
    starts = [
        journeys.Start(rule.sequence_id, found.course_id, found.person_id,
                       reason(topic.name, found.last_on_topic, found.last_at), rule_id=rule.id)
        for found in inactive(session, rule, topic, clock.now(), backfill=backfill)
    ]  # fmt: skip
    return len(journeys.start(session, starts)) if starts else 0


def sweep(session: Session) -> int:
    """Run every switched-on inactivity rule, committing after each; how many journeys
    started. Safe to run twice and on many workers at once (journeys are unique)."""
    rule_ids = session.scalars(
        select(TriggerRule.id).where(
            TriggerRule.kind == TriggerKind.INACTIVE, TriggerRule.action == RuleAction.START,
            TriggerRule.switched_on_at.is_not(None), TriggerRule.switched_off_at.is_(None),
        ).order_by(TriggerRule.id)
    ).all()  # fmt: skip
    started = 0
    for rule_id in rule_ids:
        rule = session.get_one(TriggerRule, rule_id)
        started += start(session, rule)
        session.commit()
    if started:
        log.info("Inactivity rules started %d journeys", started)
    return started
