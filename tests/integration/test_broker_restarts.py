"""Celery workers outlive their broker: a Redis of this test's own (never the shared one) is
``kill -9``'d and started again, empty, several times while two workers (one as production
runs it, prefork with its defaults; one as the soak and the fault tests run it, solo) and beat
dispatch welcomes and send their emails through a slow SMTP server, so that tasks are
reserved and unacknowledged when Redis dies.

Afterwards both workers are still running and still take tasks, every delivery reached the
panel once and every email the SMTP server once, within the bound the test states (printed as
``FAULT <name>: <value>``; docs/ARCHITECTURE.md, "What happens when things break", keeps the
figures).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from lti_tool.extensions import db
from tests.helpers.processes import celery_command, running, wait_for
from tests.helpers.seed import welcome_due
from tests.helpers.services import reachable, unavailable
from tests.helpers.smtp import free_port, smtp_server
from tests.integration.conftest import FAULT_FIGURES, OnServices, read_heartbeat
from tests.integration.test_faults import SETTINGS, KillingMailbox, Rig, fault, kill

LEARNERS = 120
#: Each email waits this long at the SMTP server, so sends are in flight when Redis dies.
SMTP_WAIT = 0.25
#: How long Redis stays dead each time (seconds): varied, from a blink to a few polls.
DOWN = (0.2, 1.0, 2.0, 0.5, 1.5)
#: Production's worker (README, "Running in production"): the prefork pool with its defaults.
PREFORK = celery_command("worker", "--loglevel", "INFO")
#: The soak's and the fault tests' worker.
SOLO = celery_command("worker", "--pool", "solo", "--without-mingle", "--without-gossip",
                      "--without-heartbeat", "--loglevel", "INFO")  # fmt: skip
#: Seconds from Redis's last start to both workers taking a task again (Celery retries the
#: broker 2, 4, 6 … s apart: a few failed tries during the restarts), and to everything (the
#: emails left, each ``SMTP_WAIT`` long) delivered and sent.
WORKERS_BOUND, THROUGH_BOUND = 15.0, 30.0


@dataclass
class OwnRedis:
    """A redis-server of this test's own on a free port: nothing saved, nothing shared."""

    folder: Path
    port: int = field(default_factory=free_port)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """The broker URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> float:
        """Start it and wait until it accepts connections; when it did (monotonic)."""
        self.starts += 1
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.folder)]  # fmt: skip
        log = self.folder / f"redis-{self.starts}.log"
        self.process = self.stack.enter_context(running(args, {}, log))
        wait_for(lambda: reachable(self.url, timeout=0.2), 15, "Redis to accept connections", log)
        return time.monotonic()

    def kill(self) -> None:
        """kill -9: what it held (queues, unacknowledged tasks) is gone."""
        assert self.process is not None
        kill(self.process)

    def unacked(self) -> int:
        """How many tasks workers hold unacknowledged (kombu's ``unacked`` hash)."""
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        with contextlib.suppress(redis.RedisError), client:
            return int(client.hlen("unacked"))
        return 0


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A Redis of the test's own, started; stopped after."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not on PATH (apt-get install redis-server)")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = OwnRedis(folder)
    with server.stack:
        server.start()
        yield server


@pytest.fixture
def rig(on_services: OnServices, tmp_path: Path, own_redis: OwnRedis) -> Iterator[Rig]:
    """test_faults' rig on PostgreSQL, with the test's own Redis and a slow SMTP server."""
    mailbox = KillingMailbox(hang=SMTP_WAIT)
    with smtp_server(mailbox) as (host, port):
        # Batches of 4: one email task per 4 learners, ~1 s each, well within the 3 s lease.
        settings = {**SETTINGS, "SMTP_HOST": host, "SMTP_PORT": port,
                    "MENTORING_DISPATCH_BATCH": 4}  # fmt: skip
        with on_services(settings, broker_url=own_redis.url) as (app, env):
            yield Rig(app, env, tmp_path, mailbox)


def _worker(
    rig: Rig, name: str, command: list[str]
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """A worker named ``name`` that also listens on a queue of its own (to ask it alone)."""
    queue = rig.env["VM_BROKER_QUEUE"]
    args = [*command, "--hostname", f"{name}@%h", "--queues", f"{queue},{queue}-{name}"]
    return running(args, rig.env, rig.logs / f"{name}.log")


def _answers(rig: Rig, worker: str, tag: str) -> Callable[[], bool]:
    """Ask ``worker`` alone for a heartbeat named after it and ``tag``; whether it recorded
    one (asks again on each poll: a task sent into a dead or restarted Redis is lost)."""
    name = f"{worker}-{tag}"

    def answered() -> bool:
        if read_heartbeat(rig.app, name) is not None:
            return True
        with contextlib.suppress(Exception):  # the broker may still be coming back
            rig.app.extensions["celery"].send_task(
                "ops.heartbeat", args=[name], queue=f"{rig.env['VM_BROKER_QUEUE']}-{worker}"
            )
        return False

    return answered


def _poll(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def _running(rig: Rig, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Fail at once, with its last words, if a worker has exited."""
    for name, process in processes.items():
        if process.poll() is not None:
            tail = (rig.logs / f"{name}.log").read_text()[-3000:]
            raise AssertionError(f"the {name} worker exited ({process.returncode}):\n{tail}")


@pytest.mark.integration
@pytest.mark.slow
def test_workers_survive_redis_killed_and_restarted_five_times(
    rig: Rig, own_redis: OwnRedis
) -> None:
    workers = {"prefork": PREFORK, "solo": SOLO}
    with contextlib.ExitStack() as stack:
        processes = {name: stack.enter_context(_worker(rig, name, command))
                     for name, command in workers.items()}  # fmt: skip
        stack.enter_context(rig.beat())
        for name in workers:
            _poll(_answers(rig, name, "ready"), 60, f"the {name} worker to start", every=0.5)
        with rig.app.app_context():
            welcome_due(db.session(), LEARNERS)  # the commit wakes the dispatcher

        # Kill Redis whenever workers hold unacknowledged tasks (or after 3 s without any),
        # keep it dead for a while, start it again, empty; five times.
        held_at_kill: list[int] = []
        for down in DOWN:
            with contextlib.suppress(AssertionError):
                _poll(lambda: own_redis.unacked() > 0, 3, "tasks in flight")
            held_at_kill.append(own_redis.unacked())
            own_redis.kill()
            time.sleep(down)  # Redis is dead for this long: nothing to poll for
            restarted = own_redis.start()
            _running(rig, processes)
        assert any(held_at_kill), "Redis was never killed with tasks in flight"
        emails_left = LEARNERS - rig.mailbox.count
        assert emails_left > 0  # the restarts came while emails were going out

        for name in workers:  # each takes a task of its own again
            _poll(_answers(rig, name, "after"), WORKERS_BOUND + 30, f"the {name} worker",
                  every=0.2)  # fmt: skip
        answering = time.monotonic() - restarted

        def through_all() -> bool:
            _running(rig, processes)
            return rig.counts()["delivered"] == LEARNERS and rig.mailbox.count >= LEARNERS

        _poll(through_all, THROUGH_BOUND + 30, "every delivery and email")
        through = time.monotonic() - restarted
        time.sleep(2)  # a late duplicate would show by now (lease 3 s, sweep 1 s)
        final = rig.counts()
        alive = {name: process.poll() is None for name, process in processes.items()}

    fault("redis_restarts_both_workers_answering_after_last_restart", answering)
    fault("redis_restarts_everything_through_after_last_restart", through)
    held = ", ".join(str(n) for n in held_at_kill)
    FAULT_FIGURES.append(f"FAULT redis_restarts_tasks_unacknowledged_at_each_kill: {held}")
    FAULT_FIGURES.append(f"FAULT redis_restarts_emails_left_at_last_restart: {emails_left}")
    assert alive == {"prefork": True, "solo": True}  # neither worker exited
    assert rig.delivered_once(LEARNERS)
    per_delivery = rig.mailbox.per_delivery()
    assert len(per_delivery) == LEARNERS
    assert set(per_delivery.values()) == {1}  # each email once
    assert final == {"delivered": LEARNERS, "sent": LEARNERS}
    assert answering < WORKERS_BOUND
    assert through < THROUGH_BOUND
