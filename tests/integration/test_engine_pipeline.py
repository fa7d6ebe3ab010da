"""The whole mentoring pipeline through real processes, on PostgreSQL and Redis.

A Moodle statement posted to /xapi/statements reaches the learner's panel by way of a real
Celery worker: the app wakes the hand-off after commit, the worker matches the rule, starts
the journey and wakes the dispatcher, which delivers the zero-offset welcome. Nothing in
the test calls the hand-off or the dispatcher. Then the demo clock (shared by the app, the
worker and beat through the database) moves a week on: beat's dispatcher delivers the
question, "not yet" brings the resource at once and the question again a week later, and
"yes" ends the journey.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.database import read_only
from lti_tool.events.models import LearningEvent
from lti_tool.extensions import db
from lti_tool.mentoring import answers, feed, plans, rules
from lti_tool.mentoring.models import Delivery, Journey, Step
from lti_tool.topics.services import add_topic
from tests.factories import (
    CourseFactory,
    DeploymentFactory,
    EnrollmentFactory,
    PersonFactory,
    RegistrationFactory,
)
from tests.helpers.processes import celery_command, running, wait_for
from tests.integration.conftest import OnServices, read_heartbeat
from tests.mentoring.conftest import FIXTURE, MOODLE, QUIZ, plan
from xapi import credentials

WORKER = celery_command(
    "worker", "--pool", "solo", "--without-mingle", "--without-gossip", "--without-heartbeat",
    "--loglevel", "INFO",
)  # fmt: skip
#: Both the app and its worker and beat: no quiet hours or daily cap to wait for (the run's
#: hour of day is whatever it is), the dispatcher swept every second, the demo clock on, the
#: tool's address for the xAPI an answer emits.
ENGINE = {
    "DEMO_CLOCK": True, "MENTORING_QUIET_START": "", "MENTORING_QUIET_END": "",
    "MENTORING_DAILY_CAP": 0, "MENTORING_DISPATCH_SECONDS": 1,
    "XAPI_TOOL_URL": "https://mentor.example.org",
}  # fmt: skip


@dataclass
class Pipeline:
    """The app on a schema of its own with Redis as its broker, a worker's environment,
    and Ana (Moodle user 3) in course 2 with the "Active listening" plan switched on."""

    app: Flask
    env: dict[str, str]
    headers: dict[str, str]
    course_id: int
    person_id: int
    logs: Path

    def post(self, statement: dict[str, Any]) -> Any:
        """Post a statement through the app, as Moodle's logstore would."""
        client = self.app.test_client()
        return client.post("/xapi/statements", json=statement, headers=self.headers)

    def deliveries(self) -> list[tuple[str, int, str]]:
        """Ana's deliveries as committed: (step, round, status), in due order."""
        with self.app.app_context(), db.engine.connect() as connection:
            rows = read_only(connection).execute(
                select(Step.key, Delivery.round, Delivery.status)
                .join(Step, Step.id == Delivery.step_id)
                .where(Delivery.person_id == self.person_id)
                .order_by(Delivery.due_at, Delivery.id)
            )  # fmt: skip
            return [(key, round_, str(status)) for key, round_, status in rows]

    def delivered(self, step: str, round_: int = 0) -> bool:
        """Whether that step's delivery is in Ana's panel."""
        return (step, round_, "delivered") in self.deliveries()

    def feed_titles(self) -> list[str]:
        """What Ana's panel shows, newest first (as the panel reads it)."""
        with self.app.app_context():
            try:
                items = feed.feed(db.session(), self.course_id, self.person_id)
                db.session.commit()
                return [item.title for item in items]
            finally:
                db.session.remove()

    def answer(self, step: str, answer: str, round_: int = 0) -> None:
        """Ana answers the delivered question in her panel."""
        with self.app.app_context():
            try:
                delivery_id = db.session.scalar(
                    select(Delivery.id).join(Step, Step.id == Delivery.step_id).where(
                        Delivery.person_id == self.person_id, Step.key == step,
                        Delivery.round == round_,
                    )
                )  # fmt: skip
                assert delivery_id is not None, (step, round_)
                answers.record(db.session(), delivery_id, answer, via="panel",
                               person_id=self.person_id)  # fmt: skip
                db.session.commit()  # the resource due now wakes the worker's dispatcher
            finally:
                db.session.remove()

    def advance_clock(self, duration: str) -> None:
        """`flask demo clock --advance`: the worker and beat read it within a second."""
        result = self.app.test_cli_runner().invoke(args=["demo", "clock", "--advance", duration])
        assert result.exit_code == 0, result.output
        self.app.extensions["clock"].forget()

    @contextlib.contextmanager
    def worker(self) -> Iterator[None]:
        """A real worker, up and taking tasks (it has run a heartbeat) before the test goes on."""
        with running(WORKER, self.env, self.logs / "worker.log"):
            self.app.extensions["celery"].send_task("ops.heartbeat", args=["pipeline"])
            wait_for(lambda: read_heartbeat(self.app, "pipeline"), 60, "the worker to start",
                     self.logs / "worker.log")  # fmt: skip
            yield

    def wait(self, condition: Callable[[], object], what: str, seconds: float = 10) -> None:
        """Wait for the worker to make ``condition`` true (failing with its log)."""
        wait_for(condition, seconds, what, self.logs / "worker.log")


def _statement(**changes: Any) -> dict[str, Any]:
    """The Moodle completion, happening now (after the rule was switched on)."""
    statement = dict(json.loads(FIXTURE.read_text()))
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {**statement, "timestamp": now, **changes}


def _tenant() -> tuple[dict[str, str], int, int]:
    registration = RegistrationFactory(issuer=MOODLE, product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    ana = PersonFactory(registration=registration, subject="3", given_name="Ana", time_zone="UTC")
    EnrollmentFactory(course=course, person=ana)
    topic = add_topic(db.session(), registration.id, "Active listening", activities=[QUIZ])
    db.session.flush()
    _sequence, found = plans.store(db.session(), registration.id, plan(topic=topic.id))
    for rule in found:
        rules.switch(db.session(), rule.id, True)
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Moodle logstore")
    auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    return headers, course.id, ana.id


@pytest.fixture
def pipeline(on_services: OnServices, tmp_path: Path) -> Iterator[Pipeline]:
    with on_services(ENGINE) as (app, env):
        with app.app_context():
            headers, course_id, person_id = _tenant()
        yield Pipeline(app, env, headers, course_id, person_id, tmp_path)


def _handed_off(pipeline: Pipeline) -> tuple[int, int]:
    """Learning events recorded, and those handed to the engine."""
    with pipeline.app.app_context(), db.engine.connect() as connection:
        row = read_only(connection).execute(
            select(func.count(), func.count(LearningEvent.handed_off_at))
        ).one()  # fmt: skip
    return int(row[0]), int(row[1])


@pytest.mark.integration
def test_a_posted_statement_reaches_the_panel_through_the_worker_once(pipeline: Pipeline) -> None:
    statement = _statement()
    with pipeline.worker():
        assert pipeline.post(statement).status_code == 200
        pipeline.wait(lambda: pipeline.delivered("welcome"), "the welcome in Ana's panel", 5)
        assert pipeline.feed_titles() == ["Welcome, Ana"]
        # The same statement again (a retrying logstore), and another completion of hers:
        assert pipeline.post(statement).status_code == 200
        again = _statement(id="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
        assert pipeline.post(again).status_code == 200
        pipeline.wait(lambda: _handed_off(pipeline) == (2, 2), "both events handed off")
    steps = Counter((key, round_) for key, round_, _status in pipeline.deliveries())
    assert steps == {("welcome", 0): 1, ("tip", 0): 1, ("ask", 0): 1}
    assert pipeline.feed_titles() == ["Welcome, Ana"]


@pytest.mark.integration
def test_a_week_later_the_question_comes_and_the_answers_follow_the_plan(
    pipeline: Pipeline,
) -> None:
    beat = celery_command(
        "beat", "--loglevel", "INFO", "--schedule", str(pipeline.logs / "beat-schedule")
    )
    with pipeline.worker(), running(beat, pipeline.env, pipeline.logs / "beat.log"):
        assert pipeline.post(_statement()).status_code == 200
        pipeline.wait(lambda: pipeline.delivered("welcome"), "the welcome", 5)
        assert not pipeline.delivered("ask")
        pipeline.advance_clock("7d")
        pipeline.wait(lambda: pipeline.delivered("ask"), "beat's dispatcher to send the question")
        assert pipeline.feed_titles()[0] == "Have you applied Active listening?"
        pipeline.answer("ask", "not_yet")
        pipeline.wait(lambda: pipeline.delivered("resource"), "the resource after “not yet”", 5)
        assert ("ask", 1, "scheduled") in pipeline.deliveries()  # again, in a week
        pipeline.advance_clock("7d")
        pipeline.wait(lambda: pipeline.delivered("ask", 1), "the question asked again")
        pipeline.answer("ask", "yes", round_=1)
    assert pipeline.feed_titles() == [
        "Have you applied Active listening?", "Watch: listening in practice",
        "Have you applied Active listening?", "A tip on Active listening", "Welcome, Ana",
    ]  # fmt: skip
    with pipeline.app.app_context():
        journey = db.session.scalars(select(Journey)).one()
        assert journey.stop_reason == "Stopped: you answered “Yes”."
