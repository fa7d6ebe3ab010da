"""Two web processes and two Celery workers on one PostgreSQL and one Redis behave exactly as
one of each: the same statements stored once, the same follow-ups delivered once, one email
each, and the two workers share the work.

Each topology gets a database schema of its own, seeded alike: a course of LEARNERS learners
with email addresses, a plan welcoming whoever completes the quiz, and a second plan that a
mentor broadcasts to the whole course. Every learner's completion is posted twice (as a
retrying source would), to both web processes where there are two; then the broadcast is
committed here and, as beat's sweep and other commits would, three more dispatchers are sent
on top of its own wake-up, claiming small batches, so the workers dispatch at the same time.
Which worker did what comes from each worker's own log (Celery's "Task … succeeded …: N"
line, N being what the task returns: deliveries delivered, copies sent).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import requests
from celery import current_app
from flask import Flask
from sqlalchemy import text

from lti_tool.database import read_only
from lti_tool.extensions import close_connections, db
from lti_tool.mentoring import plans, rules, wake
from lti_tool.mentoring.broadcast import broadcast
from lti_tool.topics.services import add_topic
from tests.conftest import own_database
from tests.factories import (
    CourseFactory,
    DeploymentFactory,
    EnrollmentFactory,
    PersonFactory,
    RegistrationFactory,
)
from tests.helpers.processes import celery_command, running, wait_for
from tests.helpers.services import service_url
from tests.helpers.smtp import Mailbox, free_port, smtp_server
from tests.mentoring.conftest import COMPLETED, FIXTURE, MOODLE, QUIZ
from xapi import credentials

LEARNERS = 60
#: No quiet hours or daily cap to wait for; small dispatch batches, so that dispatchers
#: running at once each find some.
ENGINE = {
    "MENTORING_QUIET_START": "", "MENTORING_QUIET_END": "", "MENTORING_DAILY_CAP": 0,
    "MENTORING_DISPATCH_BATCH": 5, "XAPI_TOOL_URL": "https://mentor.example.org",
}  # fmt: skip
WELCOME = {
    "name": "Welcome on completion",
    "steps": [{"key": "welcome", "offset_days": 0,
               "message": {"kind": "welcome", "title": "Welcome, {first_name}"}}],
    "rules": [{"kind": "event", "verb": COMPLETED, "completion": True}],
}  # fmt: skip
TIP = {"name": "Week 2", "steps": [{"key": "tip", "offset_days": 0, "message": {
    "kind": "tip", "title": "A tip for week 2", "body": "Listen first."}}]}  # fmt: skip
SUCCEEDED = re.compile(r"Task ([\w.]+)\[[\w-]+\] succeeded in [\d.e-]+s: (\d+)")
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Outcome:
    """What one topology did."""

    #: Statements stored, and distinct statement ids among them.
    statements: tuple[int, int]
    #: (learner, step, status) -> how many delivery rows.
    deliveries: Counter[tuple[str, str, str]]
    #: Message-ID -> how many emails carried it.
    emails: Counter[bytes]
    #: worker -> task name -> (tasks run, sum of what they returned).
    workers: dict[str, dict[str, tuple[int, int]]]


def _statement(subject: str, number: int) -> dict[str, Any]:
    """Learner ``subject``'s completion of the quiz, happening now (after the rule's switch)."""
    statement = json.loads(FIXTURE.read_text())
    statement["actor"]["account"]["name"] = subject
    statement["id"] = f"00000000-0000-4000-8000-{number:012d}"
    statement["timestamp"] = datetime.now(UTC).isoformat()
    return dict(statement)


def _seed() -> tuple[dict[str, str], int, int]:
    """Course 2 of Moodle with LEARNERS learners, both plans; the source's headers, the course
    and the broadcast plan's sequence."""
    registration = RegistrationFactory(issuer=MOODLE, product_family="moodle")
    course = CourseFactory(deployment=DeploymentFactory(registration=registration), context_id="2")
    for number in range(LEARNERS):
        learner = PersonFactory(registration=registration, subject=f"learner-{number}",
                                time_zone="UTC", email=f"learner-{number}@example.org")  # fmt: skip
        EnrollmentFactory(course=course, person=learner)
    topic = add_topic(db.session(), registration.id, "Active listening", activities=[QUIZ])
    db.session.flush()
    _welcome, found = plans.store(db.session(), registration.id, {**WELCOME, "topic": topic.id})
    for rule in found:
        rules.switch(db.session(), rule.id, True)
    tip, _none = plans.store(db.session(), registration.id, TIP)
    db.session.commit()
    made = credentials.create(db.session(), registration.id, "Moodle logstore")
    auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    return headers, course.id, tip.id


class Topology:
    """``webs`` gunicorn processes and ``workers`` Celery workers on a schema of their own."""

    def __init__(self, make_app: Callable[..., Flask], worker_env: Callable[..., dict[str, str]],
                 folder: Path, broker_url: str, queue: str) -> None:  # fmt: skip
        self.make_app, self.worker_env, self.folder = make_app, worker_env, folder
        self.broker_url, self.queue = broker_url, queue

    def run(self, webs: int, workers: int) -> Outcome:
        """Post, broadcast, wait for every delivery and email; what was stored and sent."""
        folder = self.folder / f"{webs}x{workers}"
        folder.mkdir()
        box = Mailbox()
        with own_database(folder) as url, smtp_server(box) as (host, port):
            app = self.make_app(DATABASE_URL=url, BROKER_URL=self.broker_url,
                                BROKER_QUEUE=self.queue, **ENGINE)  # fmt: skip
            celery = app.extensions["celery"]
            celery.set_default()  # the broadcast's wake-up goes through this app's broker
            celery.set_current()
            with app.app_context():
                flask_migrate.upgrade()
                headers, course_id, tip = _seed()
            smtp = {"VM_SMTP_HOST": host, "VM_SMTP_PORT": str(port), "VM_SMTP_SECURITY": "none",
                    "VM_SMTP_FROM": "mentor@vm.example.org"}  # fmt: skip
            env = self.worker_env(url, self.broker_url, self.queue, **smtp,
                                  **{f"VM_{k}": str(v) for k, v in ENGINE.items()})  # fmt: skip
            try:
                with self._processes(env, folder, webs, workers) as ports:
                    self._post(ports, headers)
                    self._wait(app, box, LEARNERS, folder)
                    with app.app_context():
                        assert broadcast(db.session(), course_id, tip) == LEARNERS
                        db.session.commit()  # and wake a dispatcher
                    for _ in range(3):
                        celery.send_task(wake.TASK)
                    self._wait(app, box, 2 * LEARNERS, folder)
                    box.wait_for(2 * LEARNERS + 1, 1)  # time for a duplicate to arrive
                return self._outcome(app, box, folder, workers)
            finally:
                with celery.connection_for_write() as connection:
                    connection.default_channel.queue_delete(self.queue)
                with app.app_context():
                    close_connections()

    @contextlib.contextmanager
    def _processes(self, env: dict[str, str], folder: Path, webs: int,
                   workers: int) -> Iterator[list[int]]:  # fmt: skip
        with contextlib.ExitStack() as stack:
            ports = [free_port() for _ in range(webs)]
            for number, port in enumerate(ports):
                stack.enter_context(running(
                    [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                     "--workers", "1", "--threads", "4", "wsgi:app"],
                    env, folder / f"web-{number + 1}.log"))  # fmt: skip
            for number in range(1, workers + 1):
                stack.enter_context(running(celery_command(
                    "worker", "--pool", "solo", "--without-mingle", "--without-gossip",
                    "--without-heartbeat", "--loglevel", "INFO", "--hostname",
                    f"worker{number}@%h"), env, folder / f"worker-{number}.log"))  # fmt: skip
            for number, port in enumerate(ports):
                wait_for(lambda port=port: _answers(port), 30, f"web process {number + 1}",
                         folder / f"web-{number + 1}.log")  # fmt: skip
            logs = [folder / f"worker-{number}.log" for number in range(1, workers + 1)]
            wait_for(lambda: self._heartbeats_reach(logs), 60, "every worker to run a task",
                     logs[0])  # fmt: skip
            yield ports

    def _heartbeats_reach(self, logs: list[Path]) -> bool:
        """Send a heartbeat; whether every worker has run one (so each is taking tasks)."""
        current_app.send_task("ops.heartbeat", args=["scale-out"])
        return all("Task ops.heartbeat[" in log.read_text() for log in logs)

    def _post(self, ports: list[int], headers: dict[str, str]) -> None:
        """Each learner's completion to one web process, then again to the other."""
        sessions = [requests.Session() for _ in ports]
        for number in range(LEARNERS):
            statement = _statement(f"learner-{number}", number)
            for turn in (number, number + 1):
                web = turn % len(ports)
                url = f"http://127.0.0.1:{ports[web]}/xapi/statements"
                answer = sessions[web].post(url, json=statement, headers=headers, timeout=30)
                assert answer.status_code == 200, answer.text

    def _wait(self, app: Flask, box: Mailbox, count: int, folder: Path) -> None:
        try:
            wait_for(lambda: _delivered(app) >= count and box.count >= count, 30,
                     f"{count} deliveries and emails")  # fmt: skip
        except AssertionError as exc:
            logs = [f"--- {path.name}\n{path.read_text()[-1500:]}"
                    for path in sorted(folder.glob("*.log"))]  # fmt: skip
            had = f"(had {_delivered(app)} and {box.count})"
            raise AssertionError("\n".join([str(exc), had, *logs])) from None

    def _outcome(self, app: Flask, box: Mailbox, folder: Path, workers: int) -> Outcome:
        with app.app_context(), db.engine.connect() as connection:
            reader = read_only(connection)
            statements = reader.execute(
                text("SELECT count(*), count(DISTINCT statement_id) FROM xapi_statements")
            ).one()
            rows = reader.execute(text(
                "SELECT p.subject, s.key, d.status FROM mentoring_deliveries d "
                "JOIN people p ON p.id = d.person_id JOIN mentoring_steps s ON s.id = d.step_id"
            )).all()  # fmt: skip
        emails = Counter(
            found.group(1) if (found := MESSAGE_ID.search(raw)) else b"" for *_, raw in box.received
        )
        return Outcome(
            statements=(int(statements[0]), int(statements[1])),
            deliveries=Counter((subject, key, str(status)) for subject, key, status in rows),
            emails=emails,
            workers={
                f"worker{n}": _tasks(folder / f"worker-{n}.log") for n in range(1, workers + 1)
            },
        )


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _delivered(app: Flask) -> int:
    with app.app_context(), db.engine.connect() as connection:
        found = read_only(connection).scalar(
            text("SELECT count(*) FROM mentoring_deliveries WHERE status = 'delivered'")
        )
        return int(found or 0)


def _tasks(log: Path) -> dict[str, tuple[int, int]]:
    """Per task name, how many the worker ran and the sum of what they returned."""
    done: dict[str, tuple[int, int]] = {}
    for name, returned in SUCCEEDED.findall(log.read_text()):
        count, total = done.get(name, (0, 0))
        done[name] = (count + 1, total + int(returned))
    return done


@pytest.fixture
def topology(
    make_app: Callable[..., Flask],
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> Topology:
    """Runs a topology on this machine's PostgreSQL and Redis (skips without them)."""
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    broker_url = service_url("VM_TEST_REDIS_URL", "Redis")
    return Topology(make_app, worker_env, tmp_path, broker_url, queue_name)


@pytest.mark.integration
def test_two_web_processes_and_two_workers_behave_as_one_of_each(topology: Topology) -> None:
    one = topology.run(webs=1, workers=1)
    two = topology.run(webs=2, workers=2)

    everyone_once = Counter({(f"learner-{n}", step, "delivered"): 1
                             for n in range(LEARNERS) for step in ("welcome", "tip")})  # fmt: skip
    assert one.deliveries == everyone_once
    assert two.deliveries == one.deliveries
    assert one.statements == two.statements == (LEARNERS, LEARNERS)  # each posted twice
    assert sorted(one.emails.values()) == sorted(two.emails.values()) == [1] * (2 * LEARNERS)

    dispatched = {worker: tasks.get(wake.TASK, (0, 0))[1] for worker, tasks in two.workers.items()}
    assert sum(dispatched.values()) == 2 * LEARNERS, two.workers
    assert all(dispatched.values()), f"a worker delivered nothing: {two.workers}"
    ran = {worker: sum(count for count, _total in tasks.values())
           for worker, tasks in two.workers.items()}  # fmt: skip
    assert min(ran.values()) >= sum(ran.values()) / 5, f"one worker did almost all: {ran}"
    assert one.workers["worker1"][wake.TASK][1] == 2 * LEARNERS
