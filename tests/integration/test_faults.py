"""What happens when things break, on real services: a Celery worker killed with SIGKILL in the
middle of a dispatch batch and in the middle of sending its emails; Redis and PostgreSQL
restarted under load; an LRS and an SMTP server that hang, reset connections or fail.

After each: every delivery reaches the panel once, every email reaches the SMTP server once,
every statement the tool acknowledged is stored, and the system recovers by itself within the
time each test states (printed as ``FAULT <name>: <seconds> s``; docs/ARCHITECTURE.md, "What
happens when things break", keeps the figures).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.courses.models import Person
from lti_tool.database import read_only
from lti_tool.extensions import close_connections, db
from lti_tool.mentoring import plans, rules
from lti_tool.mentoring.channels.models import ChannelCopy
from lti_tool.mentoring.models import Delivery, DeliveryStatus
from lti_tool.topics.services import add_topic
from tests.conftest import own_database
from tests.helpers.processes import celery_command, running, wait_for
from tests.helpers.seed import platform_course, welcome_due
from tests.helpers.services import reachable, service_url
from tests.helpers.smtp import Mailbox, smtp_server
from tests.integration.conftest import FAULT_FIGURES, read_heartbeat
from tests.integration.test_readyz_faults import _pg_ctl, _require_local_control
from tests.mentoring.conftest import COMPLETED, FIXTURE, MOODLE, QUIZ
from xapi import credentials
from xapi.models import Statement

WORKER = celery_command(
    "worker", "--pool", "solo", "--without-mingle", "--without-gossip", "--without-heartbeat",
    "--loglevel", "INFO",
)  # fmt: skip
LEARNERS = 300
#: What every process of these tests runs with: no quiet hours or cap to wait for, email on,
#: the dispatcher and the copies' sweep every second, a dead sender's copies free after 3 s.
SETTINGS: dict[str, Any] = {
    "MENTORING_QUIET_START": "", "MENTORING_QUIET_END": "", "MENTORING_DAILY_CAP": 0,
    "MENTORING_DISPATCH_SECONDS": 1, "CHANNELS_SWEEP_SECONDS": 1, "CHANNELS_LEASE_SECONDS": 3,
    "JOBS_HANDOFF_SECONDS": 1,
    "SMTP_SECURITY": "none", "SMTP_FROM": "mentor@vm.example.org", "SMTP_TIMEOUT_SECONDS": 2,
    "XAPI_TOOL_URL": "https://mentor.example.org",
}  # fmt: skip
MESSAGE_ID = re.compile(rb"Message-ID: <vm-delivery-(\d+)@", re.IGNORECASE)


def fault(name: str, seconds: float) -> None:
    """Keep a measured figure; the run's summary shows it on a line of its own."""
    FAULT_FIGURES.append(f"FAULT {name}: {seconds:.1f} s")


@dataclass
class KillingMailbox(Mailbox):
    """A mailbox that SIGKILLs ``victim`` when message number ``kill_at`` comes, before
    accepting it: the worker dies in the middle of its batch with that message not sent."""

    kill_at: int = 0
    victim: subprocess.Popen[bytes] | None = None
    killed: list[float] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Kill the worker at the set message, else keep the message."""
        if self.kill_at and self.count + 1 >= self.kill_at and self.victim is not None:
            kill(self.victim)
            self.killed.append(time.monotonic())
            self.kill_at = 0
            return "451 4.3.0 The sender went away"
        return await super().handle_DATA(server, session, envelope)

    def per_delivery(self) -> Counter[int]:
        """How many times each delivery's email arrived (by its Message-ID)."""
        with self.arrived:
            raws = [raw for _sender, _rcpts, raw in self.received]
        return Counter(int(m.group(1)) for raw in raws if (m := MESSAGE_ID.search(raw)))


def kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 the worker (its whole process group), as a crashed machine would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@dataclass
class Rig:
    """The app on a schema of its own with Redis as its broker, ``LEARNERS`` learners with a
    welcome due now, and an SMTP server; workers and beat share all of it."""

    app: Flask
    env: dict[str, str]
    logs: Path
    mailbox: KillingMailbox

    def counts(self) -> dict[str, int]:
        """Deliveries delivered, and copies by status, as committed."""
        with self.app.app_context(), db.engine.connect() as connection:
            reader = read_only(connection)
            delivered = reader.execute(
                select(func.count()).select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DELIVERED)
            ).scalar_one()  # fmt: skip
            copies = dict(reader.execute(
                select(ChannelCopy.status, func.count()).group_by(ChannelCopy.status)
            ).all())  # fmt: skip
        return {"delivered": int(delivered), **{str(k): int(v) for k, v in copies.items()}}

    def delivered_once(self, learners: int) -> bool:
        """Each of ``learners`` learners has exactly one delivered welcome."""
        with self.app.app_context(), db.engine.connect() as connection:
            per_learner = read_only(connection).execute(
                select(Delivery.person_id, func.count()).where(
                    Delivery.status == DeliveryStatus.DELIVERED
                ).group_by(Delivery.person_id)
            ).all()  # fmt: skip
        return len(per_learner) == learners and all(n == 1 for _p, n in per_learner)

    def worker(self, name: str, **extra: str) -> contextlib.AbstractContextManager[Any]:
        """A worker process (not waited for)."""
        return running(WORKER, {**self.env, **extra}, self.logs / f"{name}.log")

    def beat(self) -> contextlib.AbstractContextManager[Any]:
        """Beat, sending the dispatcher and the copies' sweep every second."""
        args = celery_command("beat", "--loglevel", "INFO",
                              "--schedule", str(self.logs / "beat-schedule"))  # fmt: skip
        return running(args, self.env, self.logs / "beat.log")

    def wait_ready(self, name: str) -> None:
        """Wait until a worker has taken a task (it is up)."""
        self.app.extensions["celery"].send_task("ops.heartbeat", args=[name])
        wait_for(lambda: read_heartbeat(self.app, name), 60, f"{name} to start",
                 self.logs / f"{name}.log")  # fmt: skip


@contextlib.contextmanager
def rig_on(
    make_app: Callable[..., Flask],
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
    broker_url: str,
    mailbox: KillingMailbox,
    **extra: Any,
) -> Iterator[Rig]:
    """A rig on a PostgreSQL schema of its own and ``broker_url``, with ``SETTINGS`` and
    ``extra`` (also test_broker_restarts.py's, on a Redis of its own)."""
    with smtp_server(mailbox) as (host, port), own_database(tmp_path) as url:
        settings = {**SETTINGS, "SMTP_HOST": host, "SMTP_PORT": port, **extra}
        app = make_app(DATABASE_URL=url, BROKER_URL=broker_url, BROKER_QUEUE=queue_name,
                       **settings)  # fmt: skip
        celery = app.extensions["celery"]
        celery.set_default()  # the wake-ups go through Celery's current app: this one's
        celery.set_current()
        try:
            with app.app_context():
                flask_migrate.upgrade()
            variables = {f"VM_{key}": str(value) for key, value in settings.items()}
            env = worker_env(url, broker_url, queue_name, **variables)
            yield Rig(app, env, tmp_path, mailbox)
        finally:
            with app.app_context():
                close_connections()


@pytest.fixture
def rig(
    make_app: Callable[..., Flask],
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> Iterator[Rig]:
    """The rig on the shared Redis, torn down with its queue and schema."""
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    broker_url = service_url("VM_TEST_REDIS_URL", "Redis")
    with rig_on(make_app, worker_env, queue_name, tmp_path, broker_url,
                KillingMailbox()) as made:  # fmt: skip
        try:
            yield made
        finally:
            with made.app.extensions["celery"].connection_for_write() as connection:
                connection.default_channel.queue_delete(queue_name)


def _poll(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


@pytest.mark.integration
def test_workers_killed_mid_dispatch_and_mid_email_lose_and_double_nothing(rig: Rig) -> None:
    # 1. A worker dispatching in batches of 2 (each its own transaction) dies half-way.
    with rig.app.app_context():
        welcome_due(db.session(), LEARNERS)  # the commit wakes the dispatcher: a task waits
    seen: dict[str, int] = {}
    with rig.worker("worker-a", VM_MENTORING_DISPATCH_BATCH="2") as worker_a:

        def mid_dispatch() -> bool:
            seen.update(rig.counts())
            return LEARNERS // 5 <= seen["delivered"] < LEARNERS

        _poll(mid_dispatch, 60, "the first worker to be half-way through dispatching")
        kill(worker_a)
    before = rig.counts()["delivered"]
    assert LEARNERS // 5 <= before < LEARNERS - 10  # killed in the middle
    assert rig.mailbox.count == 0  # its emails were still queued behind the dispatch

    # 2. A second worker sends the queued emails, and dies in the middle of a batch of them.
    with rig.worker("worker-b") as worker_b:
        rig.mailbox.victim, rig.mailbox.kill_at = worker_b, 31
        _poll(lambda: bool(rig.mailbox.killed), 60, "the second worker to be killed mid-email")
        assert worker_b.poll() is not None
    assert rig.counts()["delivered"] == before  # nothing dispatches without beat
    assert 0 < rig.mailbox.count < before

    # 3. A new worker and beat: everything arrives once, by itself.
    started = time.monotonic()
    with rig.worker("worker-c"), rig.beat():
        _poll(lambda: rig.counts()["delivered"] == LEARNERS
              and rig.mailbox.count >= LEARNERS, 30, "every delivery and email")  # fmt: skip
        recovered = time.monotonic() - started
        time.sleep(2)  # a late duplicate would show by now (lease 3 s, sweep 1 s)
        final = rig.counts()
    fault("worker_kill_recovery", recovered)
    assert rig.delivered_once(LEARNERS)
    per_delivery = rig.mailbox.per_delivery()
    assert len(per_delivery) == LEARNERS
    assert set(per_delivery.values()) == {1}  # each email once
    assert final == {"delivered": LEARNERS, "sent": LEARNERS}
    assert recovered < 30


# Restarts of Redis and PostgreSQL while statements come in and deliveries go out.

SENDERS = 200  # learners posting a completion each (their welcome: a delivery and an email)
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


@dataclass
class Load:
    """Statements posted one after another by a thread, each learner's once; what came back."""

    app: Flask
    headers: dict[str, str]
    answers: list[tuple[str, int, float, dict[str, Any]]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Post learner 1's completion, then learner 2's, … (a logstore does not give up:
        a statement not acknowledged is sent again, under its id)."""
        client = self.app.test_client()
        for n in range(1, SENDERS + 1):
            statement = _completion(n)
            while True:
                started = time.monotonic()
                answer = client.post("/xapi/statements", json=statement, headers=self.headers)
                took = time.monotonic() - started
                self.answers.append((statement["id"], answer.status_code, took, {
                    "retry_after": answer.headers.get("Retry-After"),
                    "message": answer.json.get("message", "") if answer.status_code != 200 else "",
                }))  # fmt: skip
                if answer.status_code == 200:
                    break
                time.sleep(float(answer.headers.get("Retry-After") or 1) / 5)
            time.sleep(0.02)
        self.done.set()

    def acknowledged(self) -> set[str]:
        """The ids of the statements answered 200."""
        return {sid for sid, status, _took, _info in self.answers if status == 200}


def _completion(n: int) -> dict[str, Any]:
    statement = dict(json.loads(FIXTURE.read_text()))
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    actor = {**statement["actor"], "name": f"Learner {n}",
             "account": {**statement["actor"]["account"], "name": str(n)}}  # fmt: skip
    return {**statement, "id": str(uuid.uuid4()), "actor": actor, "timestamp": now}


def _seed_senders(app: Flask) -> dict[str, str]:
    """Moodle course 2 with ``SENDERS`` learners (Moodle users 1…), the welcome plan switched
    on, and the logstore's credentials (its request headers)."""
    with app.app_context():
        registration, _course = platform_course(db.session(), issuer=MOODLE)
        db.session.add_all([
            Person(registration_id=registration.id, subject=str(n), given_name=f"L{n}",
                   email=f"learner{n}@example.org", time_zone="UTC")
            for n in range(1, SENDERS + 1)
        ])  # fmt: skip
        topic = add_topic(db.session(), registration.id, "Active listening", activities=[QUIZ])
        db.session.flush()
        _sequence, found = plans.store(db.session(), registration.id, {
            "name": "Welcome", "topic": topic.id, "rules": [{"kind": "event", "verb": COMPLETED}],
            "steps": [{"key": "hello", "offset_days": 0,
                       "message": {"kind": "welcome", "title": "Welcome, {first_name}"}}],
        })  # fmt: skip
        for rule in found:
            rules.switch(db.session(), rule.id, True)
        db.session.commit()
        made = credentials.create(db.session(), registration.id, "Moodle logstore")
        db.session.commit()
    auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    return {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}


def _stored(rig: Rig) -> set[str]:
    with rig.app.app_context(), db.engine.connect() as connection:
        return set(read_only(connection).execute(select(Statement.statement_id)).scalars())


def _redis(action: str, url: str) -> None:
    if action == "stop":
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"],
                       timeout=30, capture_output=True, check=False)  # fmt: skip
        wait_for(lambda: not reachable(url), 15, "Redis to stop")
    else:
        subprocess.run(REDIS_START, check=True, timeout=30, capture_output=True)
        wait_for(lambda: reachable(url), 30, "Redis to accept connections")


def _postgresql(action: str, url: str) -> None:
    _pg_ctl(action)
    if action == "start":
        wait_for(lambda: reachable(url), 30, "PostgreSQL to accept connections")


@dataclass
class Outage:
    """What /readyz said while a service was down and after, and how long things took."""

    said_down: list[str] = field(default_factory=list)
    ready_after: float = 0.0  # seconds from the service's start to /readyz answering 200


def _outage(rig: Rig, stop: Callable[[], None], start: Callable[[], None]) -> Outage:
    """Stop a service for 3 s while /readyz is asked every 0.2 s; start it; time /readyz."""
    client, outage = rig.app.test_client(), Outage()
    stop()
    try:
        until = time.monotonic() + 3
        while time.monotonic() < until:
            answer = client.get("/readyz")
            if answer.status_code == 503:
                outage.said_down.append(str(answer.json["error"]))  # type: ignore[index]
            time.sleep(0.2)
    finally:
        start()
    started = time.monotonic()
    wait_for(lambda: client.get("/readyz").status_code == 200, 30, "/readyz to say ready")
    outage.ready_after = time.monotonic() - started
    return outage


def _under_load(
    rig: Rig, name: str, stop: Callable[[], None], start: Callable[[], None], down: str
) -> Load:
    """Statements streaming in and welcomes going out while a service stops for 3 s: /readyz
    says ``down`` meanwhile and ready within 10 s of the start; every acknowledged statement
    is stored, and its welcome delivered and emailed once within 30 s of the start."""
    load = Load(rig.app, _seed_senders(rig.app))
    with rig.worker("worker"), rig.beat():
        rig.wait_ready("worker")
        sender = threading.Thread(target=load.run, daemon=True)
        sender.start()
        _poll(lambda: len(load.answers) >= SENDERS // 4, 60, "a quarter of the statements")
        outage = _outage(rig, stop, start)
        restarted = time.monotonic() - outage.ready_after
        sender.join(120)
        assert load.done.is_set(), "the statements did not all get in"
        _poll(lambda: rig.counts()["delivered"] == SENDERS and rig.mailbox.count >= SENDERS,
              60, "every welcome delivered and emailed")  # fmt: skip
        recovered = time.monotonic() - restarted
        time.sleep(2)  # a late duplicate would show by now
        final = rig.counts()
    fault(f"{name}_readyz_ready_after_restart", outage.ready_after)
    fault(f"{name}_everything_through_after_restart", recovered)
    slowest = max(took for _sid, _status, took, _info in load.answers)
    fault(f"{name}_slowest_statement_answer", slowest)
    assert load.acknowledged() <= _stored(rig)  # nothing acknowledged is lost
    assert len(load.acknowledged()) == SENDERS
    assert rig.delivered_once(SENDERS)
    assert set(rig.mailbox.per_delivery().values()) == {1}  # each email once
    assert final == {"delivered": SENDERS, "sent": SENDERS}
    assert outage.said_down
    assert all(said.startswith(down) for said in outage.said_down)
    assert outage.ready_after < 10
    assert recovered < 30
    return load


@pytest.mark.integration
@pytest.mark.slow
def test_redis_restarted_under_load_loses_and_doubles_nothing(rig: Rig) -> None:
    url = service_url("VM_TEST_REDIS_URL", "Redis")
    _require_local_control("redis-server", url)
    load = _under_load(rig, "redis", lambda: _redis("stop", url), lambda: _redis("start", url),
                       "broker unreachable")  # fmt: skip
    assert {status for _sid, status, _took, _info in load.answers} == {200}  # ingest never stops


@pytest.mark.integration
@pytest.mark.slow
def test_postgresql_restarted_under_load_loses_and_doubles_nothing(rig: Rig) -> None:
    url = service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    _require_local_control("pg_ctlcluster", url)
    load = _under_load(rig, "postgresql", lambda: _postgresql("stop", url),
                       lambda: _postgresql("start", url), "database unreachable")  # fmt: skip
    refused = [info for _sid, status, _took, info in load.answers if status != 200]
    FAULT_FIGURES.append(f"FAULT postgresql_statements_answered_503: {len(refused)}")
    for info in refused:  # a clear answer to try again, never a 500
        assert info["retry_after"] == "5"
        assert info["message"] == (
            "The database is not available right now. Please try again in a few seconds."
        )
    assert {status for _sid, status, _took, _info in load.answers} <= {200, 503}
