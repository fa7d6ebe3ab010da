"""Inactivity rules: "no activity on a topic for N days" starts the sequence once, only for
inactivity that began after the rule was switched on, in the rule's course, counting only
the rule's topic (or joining the course, where the course teaches it)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.events.services import JOINED
from lti_tool.mentoring import dryrun, inactivity, plans, rules
from lti_tool.mentoring.models import Journey, TriggerRule
from lti_tool.topics.services import add_topic
from tests.factories import CourseFactory, EnrollmentFactory
from tests.mentoring.conftest import COMPLETED, QUIZ, Tenant, plan

ON = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
_keys = itertools.count()


def day(n: int, hour: int = 9) -> datetime:
    """November ``n``, 2026, at ``hour`` UTC."""
    return datetime(2026, 11, n, hour, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "backfill", "holds"),
    [
        (day(1) - timedelta(days=7, seconds=-1), False, True),  # inactive just after switch-on
        (day(1) - timedelta(days=7), False, False),  # became inactive as the rule came on
        (datetime(2026, 10, 1, tzinfo=UTC), False, False),  # long before the rule
        (datetime(2026, 10, 1, tzinfo=UTC), True, True),  # a backfill takes them
        (day(3, 8), False, True),
        (day(3, 9), False, False),  # not 7 full days yet
    ],
)
def test_the_window_is_n_days_ago_and_after_the_switch_on(
    last: datetime, backfill: bool, holds: bool
) -> None:
    found = inactivity.window(day(10), 7, day(1), backfill=backfill)
    assert found.holds(last) is holds


@pytest.mark.parametrize(
    ("on_topic", "last", "words"),
    [
        (day(3), day(3), "No activity on “Active listening” since 2026-11-03."),
        (None, day(2), "No activity on “Active listening” since you joined the course on "
                       "2026-11-02."),
    ],
)  # fmt: skip
def test_the_reason_says_since_when(on_topic: datetime | None, last: datetime, words: str) -> None:
    assert inactivity.reason("Active listening", on_topic, last) == words


@pytest.mark.parametrize("days", [None, 0, -3, "7", 1.5, True])
def test_an_inactivity_rule_needs_a_topic_and_whole_days(
    db: SQLAlchemy, tenant: Tenant, days: Any
) -> None:
    inactive = plan(topic=tenant.topic_id, rules=[{"kind": "inactive", "inactive_days": days}])
    with pytest.raises(plans.PlanError, match="inactive_days"):
        plans.store(db.session(), tenant.registration_id, inactive)


def _rule(
    db: SQLAlchemy, tenant: Tenant, *, days: int = 7, course_id: int | None = None,
    topic_id: int | None = None,
) -> TriggerRule:  # fmt: skip
    """An inactivity plan on the topic, switched on at ``ON``."""
    tenant.clock.at = ON
    _sequence, [rule] = plans.store(
        db.session(), tenant.registration_id,
        plan(topic=topic_id or tenant.topic_id,
             rules=[{"kind": "inactive", "inactive_days": days, "name": "Quiet a week"}]),
        course_id=course_id,
    )  # fmt: skip
    rules.switch(db.session(), rule.id, True)
    db.session.commit()
    return rule


def _event(
    db: SQLAlchemy, tenant: Tenant, at: datetime, *, person_id: int | None = None,
    course_id: int | None = None, topic_id: int | None = -1, verb: str = COMPLETED,
) -> None:  # fmt: skip
    """A handed-off event of Ana's (or another's) on the topic (or another, or none)."""
    db.session.add(LearningEvent(
        idempotency_key=f"test:{next(_keys)}", registration_id=tenant.registration_id,
        course_id=course_id or tenant.course_id, person_id=person_id or tenant.person_id,
        verb=verb, activity_id=QUIZ, occurred_at=at, source=EventSource.XAPI,
        topic_id=tenant.topic_id if topic_id == -1 else topic_id, handed_off_at=at,
    ))  # fmt: skip
    db.session.commit()


def _sweep(db: SQLAlchemy, tenant: Tenant, at: datetime) -> int:
    tenant.clock.at = at
    return inactivity.sweep(db.session())


def _journeys(db: SQLAlchemy) -> list[tuple[int, int, str]]:
    rows = db.session.execute(
        select(Journey.course_id, Journey.person_id, Journey.start_reason).order_by(Journey.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _learner(db: SQLAlchemy, course_id: int) -> int:
    course = db.session.get_one(Course, course_id)
    return int(EnrollmentFactory(course=course).person.id)


def test_a_learner_quiet_for_n_days_gets_the_sequence_once(db: SQLAlchemy, tenant: Tenant) -> None:
    _rule(db, tenant)
    _event(db, tenant, datetime(2026, 10, 30, 14, 0, tzinfo=UTC))  # before the switch-on
    assert _sweep(db, tenant, datetime(2026, 11, 6, 13, 59, tzinfo=UTC)) == 0
    assert _sweep(db, tenant, datetime(2026, 11, 6, 14, 1, tzinfo=UTC)) == 1
    assert _journeys(db) == [
        (tenant.course_id, tenant.person_id, "No activity on “Active listening” since 2026-10-30.")
    ]
    assert _sweep(db, tenant, day(7)) == 0  # once
    assert tenant.later(db) == 1  # the welcome is delivered
    assert tenant.feed_titles(db) == ["Welcome, Ana"]


def test_a_recent_event_on_the_topic_keeps_the_learner_active(
    db: SQLAlchemy, tenant: Tenant
) -> None:
    _rule(db, tenant)
    _event(db, tenant, day(1))
    _event(db, tenant, day(5))
    assert _sweep(db, tenant, day(9)) == 0
    assert _sweep(db, tenant, day(12, 10)) == 1


def test_inactivity_that_began_before_the_switch_on_waits_for_a_backfill(
    db: SQLAlchemy, tenant: Tenant
) -> None:
    rule = _rule(db, tenant)
    _event(db, tenant, datetime(2026, 10, 1, tzinfo=UTC))  # inactive since Oct 8
    assert _sweep(db, tenant, day(20)) == 0
    assert [(p.person_id, p.step) for p in dryrun.dry_run(db.session(), rule.id)][:1] == [
        (tenant.person_id, "welcome")
    ]
    assert rules.backfill(db.session(), rule.id) == 1
    assert _journeys(db)[0][2] == "No activity on “Active listening” since 2026-10-01."


def test_other_topics_do_not_count(db: SQLAlchemy, tenant: Tenant) -> None:
    other = add_topic(db.session(), tenant.registration_id, "Feedback").id
    _rule(db, tenant)
    _event(db, tenant, day(1))
    _event(db, tenant, day(7), topic_id=other)  # busy elsewhere: still quiet on this topic
    _event(db, tenant, day(7), topic_id=None)
    assert _sweep(db, tenant, day(8, 10)) == 1


def test_a_course_rule_reaches_only_its_course(db: SQLAlchemy, tenant: Tenant) -> None:
    here = db.session.get_one(Course, tenant.course_id)
    elsewhere = CourseFactory(deployment=here.deployment).id
    bo = _learner(db, elsewhere)
    _rule(db, tenant, course_id=tenant.course_id)
    _event(db, tenant, day(1))
    _event(db, tenant, day(1), person_id=bo, course_id=elsewhere)
    assert _sweep(db, tenant, day(9)) == 1
    assert [(c, p) for c, p, _ in _journeys(db)] == [(tenant.course_id, tenant.person_id)]


def test_a_registration_wide_rule_reaches_every_course(db: SQLAlchemy, tenant: Tenant) -> None:
    here = db.session.get_one(Course, tenant.course_id)
    elsewhere = CourseFactory(deployment=here.deployment).id
    bo = _learner(db, elsewhere)
    _rule(db, tenant)
    _event(db, tenant, day(1))
    _event(db, tenant, day(2), person_id=bo, course_id=elsewhere)
    assert _sweep(db, tenant, day(9, 10)) == 2
    assert {(c, p) for c, p, _ in _journeys(db)} == {
        (tenant.course_id, tenant.person_id),
        (elsewhere, bo),
    }


def test_who_never_began_counts_from_joining_where_the_course_teaches_the_topic(
    db: SQLAlchemy, tenant: Tenant
) -> None:
    course_topic = add_topic(db.session(), tenant.registration_id, "Negotiation",
                             course_id=tenant.course_id).id  # fmt: skip
    db.session.commit()
    _rule(db, tenant, topic_id=course_topic)
    library = _rule(db, tenant)  # library topic, any course: nothing says the course teaches it
    _event(db, tenant, day(2), topic_id=None, verb=JOINED)
    assert _sweep(db, tenant, day(9, 10)) == 1
    [(course_id, person_id, why)] = _journeys(db)
    assert (course_id, person_id) == (tenant.course_id, tenant.person_id)
    assert why == "No activity on “Negotiation” since you joined the course on 2026-11-02."
    assert not any(j.rule_id == library.id for j in db.session.scalars(select(Journey)))


def test_a_learner_who_left_the_course_is_not_nudged(db: SQLAlchemy, tenant: Tenant) -> None:
    _rule(db, tenant)
    _event(db, tenant, day(1))
    enrollment = db.session.scalars(
        select(Enrollment).where(Enrollment.person_id == tenant.person_id)
    ).one()
    enrollment.status = EnrollmentStatus.INACTIVE
    db.session.commit()
    assert _sweep(db, tenant, day(9)) == 0


def test_a_switched_off_rule_starts_nothing(db: SQLAlchemy, tenant: Tenant) -> None:
    rule = _rule(db, tenant)
    _event(db, tenant, day(1))
    rules.switch(db.session(), rule.id, False)
    db.session.commit()
    assert _sweep(db, tenant, day(9)) == 0


def test_beat_runs_the_sweep_as_configured(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["inactive-learners"] == {
        "task": "mentoring.inactivity",
        "schedule": app.config["MENTORING_INACTIVITY_SECONDS"],
    }
    assert app.config["MENTORING_INACTIVITY_SECONDS"] == 3600
