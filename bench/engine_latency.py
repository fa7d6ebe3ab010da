"""trigger_to_panel_p95: from a learning event to its zero-offset step in the learner's panel.

gunicorn (2 workers, 4 threads) serves the app on a PostgreSQL schema of its own, one Celery
worker (one process) runs the tasks, Redis is the broker. LEARNERS learners of one course are
each sent one Moodle completion, one every SPACING seconds, matching a switched-on rule whose
plan starts with a welcome at offset zero. Each learner's time runs from the start of the POST
until a reader polling every 10 ms sees the welcome delivered (what the panel shows): the
statement stored, the hand-off woken and run by the worker, the rule matched, the journey
started, the dispatcher woken and run. Nothing else wakes either (beat is not running).
"""

from __future__ import annotations

import copy
import http.client
import json
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import insert, select

from bench.database import bench_database
from bench.figures import Figure
from bench.services import (
    app_on,
    celery_worker,
    gunicorn,
    statement_headers,
    wait_until,
    worker_ready,
)
from lti_tool.courses.models import Course, Enrollment, Person, Role
from lti_tool.extensions import close_connections, db
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus
from lti_tool.mentoring import plans, rules
from lti_tool.mentors.models import MentorProfile, Mentorship
from lti_tool.settings import ROOT
from lti_tool.topics.services import add_topic
from xapi import credentials

FIXTURE = ROOT / "tests" / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
MOODLE = "https://moodle.example.org"
LEARNERS, SPACING, WARM_UP = 50, 0.15, 4
PLAN = {
    "name": "Welcome on completion", "topic": None,
    "steps": [{"key": "welcome", "offset_days": 0,
               "message": {"kind": "welcome", "title": "Welcome, {first_name}"}}],
    "rules": [{"kind": "event", "verb": "http://adlnet.gov/expapi/verbs/completed",
               "completion": True}],
}  # fmt: skip
_DELIVERED = "SELECT p.subject FROM mentoring_deliveries d JOIN people p ON p.id = d.person_id "
_DELIVERED += "WHERE d.status = 'delivered'"


def engine_settings(folder: str, url: str, broker: str, **changes: Any) -> dict[str, Any]:
    """The app's settings for engine benchmarks: a queue of the run's own, no quiet hours or
    daily cap (the run's hour of day is whatever it is), otherwise the defaults."""
    return {
        "ENV": "development", "SECRET_KEY": "bench-" + "x" * 40, "DATABASE_URL": url,
        "BROKER_URL": broker, "BROKER_QUEUE": f"vm-bench-{secrets.token_hex(4)}",
        "INSTANCE_PATH": folder, "DEMO_CLOCK": False, "LTI_EMBEDDED_PLATFORM": False,
        "MENTORING_QUIET_START": "", "MENTORING_QUIET_END": "", "MENTORING_DAILY_CAP": 0,
        **changes,
    }  # fmt: skip


def trigger_to_panel(broker: str) -> Iterator[Figure]:
    """Post one statement per learner, spaced out; the 95th percentile of their latencies."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        settings = engine_settings(folder, url, broker)
        app = app_on(settings)
        with app.app_context():
            headers = _seed()
            ready = worker_ready(app)
            close_connections()
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with celery_worker(settings, ready), gunicorn(settings) as port:
            poster = _Poster(port, headers)
            warm = [f"w{n}" for n in range(WARM_UP)]  # both gunicorn workers, the worker
            _measure(poster, plain, warm)
            latencies = _measure(poster, plain, [f"l{n}" for n in range(LEARNERS)])
    cuts = statistics.quantiles(latencies, n=20, method="inclusive")
    print(f"# trigger_to_panel on {kind}, Redis, gunicorn 2x4, one worker: {LEARNERS} "
          f"statements {SPACING * 1000:.0f} ms apart; p50 {statistics.median(latencies):.3f} s, "
          f"max {max(latencies):.3f} s", flush=True)  # fmt: skip
    yield Figure("trigger_to_panel_p95", cuts[18], "s")


def _measure(poster: _Poster, url: str, learners: list[str]) -> list[float]:
    """Post each learner's statement on schedule; each one's seconds until delivered."""
    posted: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            while not done.is_set():
                for (subject,) in connection.execute(_DELIVERED):
                    seen.setdefault(subject, time.time())
                time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        start = time.monotonic()
        for number, learner in enumerate(learners):
            time.sleep(max(0.0, start + number * SPACING - time.monotonic()))
            posted[learner] = time.time()
            poster.post(learner)
        wait_until(lambda: set(learners) <= set(seen), 60, "every welcome delivered")
    finally:
        done.set()
        watcher.join()
    return [seen[learner] - posted[learner] for learner in learners]


class _Poster:
    """Posts a learner's completion, happening now, on one keep-alive connection."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers
        self.template = json.loads(FIXTURE.read_text())

    def post(self, learner: str) -> None:
        """POST /xapi/statements; any refusal stops the run."""
        statement = copy.deepcopy(self.template)
        del statement["id"]
        statement["actor"]["account"]["name"] = learner
        statement["timestamp"] = datetime.now(UTC).isoformat()
        self.connection.request("POST", "/xapi/statements", body=json.dumps(statement),
                                headers=self.headers)  # fmt: skip
        answer = self.connection.getresponse()
        text = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"the endpoint refused a statement: {answer.status} {text[:200]!r}")


def course_with_learners(issuer: str, subjects: list[str]) -> tuple[PlatformRegistration, Course]:
    """A platform, its course 2 (Moodle's id), and a learner enrolled in it per subject."""
    registration = PlatformRegistration(
        issuer=issuer, client_id="bench", name="LMS", auth_login_url=f"{issuer}/a",
        auth_token_url=f"{issuer}/t", key_set_url=f"{issuer}/k",
    )  # fmt: skip
    db.session.add(registration)
    db.session.flush()
    deployment = Deployment(registration_id=registration.id, deployment_id="1")
    db.session.add(deployment)
    db.session.flush()
    course = Course(deployment_id=deployment.id, context_id="2", title="Course 2")
    people = [Person(registration_id=registration.id, subject=subject,
                     given_name=f"Learner {subject}") for subject in subjects]  # fmt: skip
    db.session.add_all([course, *people])
    db.session.flush()
    db.session.add_all(Enrollment(course_id=course.id, person_id=person.id, role=Role.LEARNER,
                                  lti_roles=[]) for person in people)  # fmt: skip
    return registration, course


def mentored_course(
    issuer: str, subjects: list[str]
) -> tuple[PlatformRegistration, Course, int, list[int]]:
    """``course_with_learners``, active as a launch would have left it, with a mentor (Maya,
    with a profile) paired with every learner; the mentor's and the learners' person ids
    (in ``subjects``' order)."""
    session = db.session()
    registration, course = course_with_learners(issuer, subjects)
    registration.status = RegistrationStatus.ACTIVE
    for deployment in session.scalars(select(Deployment)):
        deployment.status = RegistrationStatus.ACTIVE
    mentor = Person(registration_id=registration.id, subject="mentor", name="Maya Mentor",
                    given_name="Maya")  # fmt: skip
    session.add(mentor)
    session.flush()
    session.add(Enrollment(course_id=course.id, person_id=mentor.id, role=Role.MENTOR,
                           lti_roles=[]))  # fmt: skip
    session.add(MentorProfile(person_id=mentor.id, display_name="Maya", title="Mentor",
                              bio="I mentor this course."))  # fmt: skip
    ids = dict(session.execute(select(Person.subject, Person.id).where(
        Person.registration_id == registration.id, Person.id != mentor.id,
    )).tuples().all())  # fmt: skip
    learners = [ids[subject] for subject in subjects]
    session.execute(insert(Mentorship), [
        {"course_id": course.id, "mentor_id": mentor.id, "mentee_id": learner}
        for learner in learners])  # fmt: skip
    return registration, course, mentor.id, learners


def _seed() -> dict[str, str]:
    """Moodle, course 2 and its learners, the topic of the fixture's quiz and the plan, its
    rule switched on; the statement source's headers."""
    subjects = [f"w{n}" for n in range(WARM_UP)] + [f"l{n}" for n in range(LEARNERS)]
    registration, _course = course_with_learners(MOODLE, subjects)
    quiz = f"{MOODLE}/mod/quiz/view.php?id=17"
    topic = add_topic(db.session(), registration.id, "Active listening", activities=[quiz])
    db.session.flush()
    _sequence, found = plans.store(db.session(), registration.id, {**PLAN, "topic": topic.id})
    for rule in found:
        rules.switch(db.session(), rule.id, True)
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "bench")
    return statement_headers(made.key, made.secret)
