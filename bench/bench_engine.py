"""The mentoring engine: matching an event against 1,000 active rules (pure, in memory), a
welcome broadcast to 10,000 learners scheduled and delivered in the panel, and the time from
a learning event to its zero-offset step in the panel, on PostgreSQL.

rule_match_1000 is the mean time to match one event against 1,000 switched-on rules of one
tenant (varied verbs, topics and activities, a tenth on any activity), the index built once.
fanout_panel_10k is the issue's measure: the broadcast's journeys and deliveries written and
committed here, whose wake-up sends the dispatcher through Redis to one real Celery worker
(one process, the default batch), until the last delivery is delivered (polled), end to end.
fanout_panel_10k_in_process is the same work with the dispatcher run in this process.
trigger_to_panel_p95 (engine_latency.py): statements through gunicorn, each starting a
learner's welcome, until the worker has delivered it.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import flask_migrate
from flask import Flask
from sqlalchemy import func, select

from bench.database import bench_database
from bench.engine_latency import course_with_learners, engine_settings, trigger_to_panel
from bench.figures import Figure
from bench.services import REDIS, app_on, celery_worker, redis_broker, wait_until, worker_ready
from lti_tool import create_app
from lti_tool.extensions import close_connections, db
from lti_tool.mentoring import dispatch, plans
from lti_tool.mentoring.broadcast import broadcast
from lti_tool.mentoring.matching import RuleIndex, RuleSpec
from lti_tool.mentoring.models import Delivery, DeliveryStatus

VERBS = [f"http://adlnet.gov/expapi/verbs/{v}" for v in ("completed", "passed", "scored", "failed")]
LEARNERS = 10_000


@dataclass(frozen=True)
class _Event:
    registration_id: int
    course_id: int | None
    topic_id: int | None
    verb: str
    activity_id: str
    completion: bool | None
    success: bool | None
    score_scaled: float | None
    occurred_at: datetime


def run() -> Iterator[Figure]:
    """Every figure; the ones with a real worker need Redis."""
    yield _rule_match()
    yield _fanout_in_process()
    broker = redis_broker()
    if broker is None:
        print(f"# fanout_panel_10k and trigger_to_panel_p95 skipped: no Redis at {REDIS}")
        return
    yield _fanout(broker)
    yield from trigger_to_panel(broker)


def _rule_match() -> Figure:
    rng = random.Random(7)
    on = datetime(2026, 1, 1, tzinfo=UTC)
    rules = [
        RuleSpec(id=n, registration_id=1, sequence_id=n, switched_on_at=on,
                 verb=rng.choice(VERBS), topic_id=None if n % 10 == 0 else rng.randrange(300),
                 activity_id=f"https://lms.example.org/mod/quiz/view.php?id={n}" if n % 10 == 0
                 else None, completion=True if n % 3 == 0 else None)
        for n in range(1000)
    ]  # fmt: skip
    index = RuleIndex(rules)
    events = [
        _Event(1, 2, rng.randrange(300), rng.choice(VERBS),
               f"https://lms.example.org/mod/quiz/view.php?id={rng.randrange(1000)}", True, True,
               0.9, datetime(2026, 6, 1, tzinfo=UTC))
        for _ in range(10_000)
    ]  # fmt: skip
    started = time.perf_counter()
    matched = sum(len(index.match(event)) for event in events)
    elapsed = time.perf_counter() - started
    assert matched > 0
    return Figure("rule_match_1000", elapsed / len(events) * 1000, "ms")


def _fanout_in_process() -> Figure:
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, _kind):
        app = create_app(engine_settings(folder, url, "memory://", MENTORING_DISPATCH_BATCH=1000))
        with app.app_context():
            flask_migrate.upgrade()
            course_id, sequence_id = _seed()
            started = time.perf_counter()
            assert broadcast(db.session(), course_id, sequence_id) == LEARNERS
            db.session.commit()
            delivered = dispatch.dispatch_due(db.session())
            elapsed = time.perf_counter() - started
            assert delivered == LEARNERS, delivered
            close_connections()
    return Figure("fanout_panel_10k_in_process", elapsed, "s")


def _fanout(broker: str) -> Figure:
    """The broadcast committed here; its wake-up sends the dispatcher to the worker, which
    delivers every learner's welcome; until the last is delivered, as the panel reads it."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, _kind):
        settings = engine_settings(folder, url, broker)
        app = app_on(settings)
        with app.app_context():
            course_id, sequence_id = _seed()
            with celery_worker(settings, worker_ready(app)):
                started = time.perf_counter()
                assert broadcast(db.session(), course_id, sequence_id) == LEARNERS
                db.session.commit()  # and wake the dispatcher (wake.py)
                scheduled = time.perf_counter() - started
                wait_until(lambda: _delivered(app) == LEARNERS, 120, "10,000 deliveries")
                elapsed = time.perf_counter() - started
            close_connections()
    batch = app.config["MENTORING_DISPATCH_BATCH"]
    print(f"# fanout_panel_10k: scheduled in {scheduled:.2f} s, then delivered by one worker "
          f"(Redis, batches of {batch})", flush=True)  # fmt: skip
    return Figure("fanout_panel_10k", elapsed, "s")


def _delivered(app: Flask) -> int:
    with app.app_context(), db.engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.DELIVERED))  # fmt: skip
    return int(count or 0)


def _seed() -> tuple[int, int]:
    registration, course = course_with_learners("https://lms.example.org",
                                                [str(n) for n in range(LEARNERS)])  # fmt: skip
    sequence, _rules = plans.store(db.session(), registration.id, {"name": "Welcome", "steps": [
        {"key": "hello", "offset_days": 0,
         "message": {"kind": "welcome", "title": "Welcome, {first_name}"}},
    ]})  # fmt: skip
    db.session.commit()
    return course.id, sequence.id
