"""The soak (`make soak`): the whole tool under a steady mixed load for SOAK_SECONDS (600 by
default), then proof that it stayed flat and lost nothing.

Topology, all on this machine: PostgreSQL (a schema of the soak's own, bench/database.py),
Redis (VM_BENCH_SOAK_REDIS_URL, default database 13, not emptied: broker on a queue of the
run's own, launch state, rate-limit counts), TWO gunicorn web processes of 1 worker x 4
threads each (two of 2 x 4 would be 16 threads on two cores), TWO Celery workers (one
process each) and one beat, an SMTP server (aiosmtpd) in this process. Load, all at once,
each action paced and spread over both web processes: demo learners launching from the
embedded platform (login, launch, panel); seeded learners reading their panels, answering
"have you applied it?" (yes, or "not yet", which sends a resource at once) and asking their
mentor; a source posting batches of five Moodle completions, one in each starting a new
learner's plan (a welcome and the question, both due at once, delivered in the panel and by
email).

Every SOAK_SAMPLE_SECONDS (10) the watch (bench/soak_samples.py) samples each process's
memory, the servers' PostgreSQL connections and Redis's clients. At the end: per action,
p50/p99 latency and throughput; each series, flat or not; then, once the workers have
drained: every acknowledged statement stored once, every expected delivery (and only those)
delivered once, one email each (no Message-ID twice), one thread per question asked, no 5xx.
Exit status 1 if anything is not flat, was lost or duplicated, or any request failed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import redis
from aiosmtpd.controller import Controller

from bench.database import bench_database
from bench.engine_latency import engine_settings
from bench.services import (
    BENCH_RATE_LIMITS,
    WORKER,
    app_on,
    celery_process,
    free_port,
    gunicorn_process,
    wait_until,
)
from bench.soak_load import Load
from bench.soak_samples import Watch
from bench.soak_seed import seed
from lti_tool.devplatform.services import register_with_tool
from lti_tool.extensions import close_connections, db
from lti_tool.settings import ROOT

REDIS = os.environ.get("VM_BENCH_SOAK_REDIS_URL", "redis://127.0.0.1:6379/13")
FIXTURE = ROOT / "tests" / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
#: Requests a second per action (statements: batches of five).
RATES = {"launch": 1.0, "panel": 20.0, "answer": 1.5, "ask": 0.5, "statements": 3.0}
DRAIN_SECONDS = 90
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class Inbox:
    """The SMTP server's handler: counts each Message-ID received."""

    def __init__(self) -> None:
        self.ids: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Count the message by its Message-ID."""
        found = MESSAGE_ID.search(bytes(envelope.original_content))
        with self.lock:
            self.ids[found.group(1) if found else b"(none)"] += 1
        return "250 Message accepted for delivery"


def main() -> int:
    """Run the soak for SOAK_SECONDS; print the figures; 0 if it held, 1 if not."""
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    every = float(os.environ.get("SOAK_SAMPLE_SECONDS", "10"))
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError:
        print(f"The soak needs Redis at {REDIS} (VM_BENCH_SOAK_REDIS_URL); it does not answer.")
        return 2
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        if kind != "PostgreSQL":
            print("The soak needs PostgreSQL (VM_BENCH_DATABASE_URL); it is not answering.")
            return 2
        return _soak(folder, url, seconds, every)


def _soak(folder: str, url: str, seconds: float, every: float) -> int:
    application = f"vm_soak_{secrets.token_hex(4)}"
    inbox = Inbox()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port(), server_hostname="mail.test")
    smtp.start()
    settings = engine_settings(
        folder, f"{url}&application_name={application}", REDIS, LTI_STORAGE_URL=REDIS,
        LTI_EMBEDDED_PLATFORM=True, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
        SMTP_SECURITY="none", SMTP_FROM="mentor@vm.example.org", MENTORING_DISPATCH_SECONDS=10,
        XAPI_TOOL_URL="https://mentor.example.org", **BENCH_RATE_LIMITS,
        RATE_LIMITS_QUESTIONS="1000000/minute", RATE_LIMITS_REPLIES="1000000/minute",
    )  # fmt: skip
    client = {**settings, "DATABASE_URL": f"{url}&application_name={application}_client"}
    app = app_on(client)
    learners_needed = int(seconds * RATES["statements"] * 1.1) + 100
    with app.app_context():
        seeded = seed(app, learners_needed)
        close_connections()
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    logs = Path(folder)
    try:
        with contextlib.ExitStack() as stack:
            webs = [stack.enter_context(gunicorn_process(settings, workers=1, threads=4))
                    for _ in range(2)]  # fmt: skip
            processes = {f"web {chr(97 + n)}": server.pid for n, (_port, server) in enumerate(webs)}
            for number in (1, 2):
                worker = stack.enter_context(celery_process(
                    settings, (*WORKER, "--hostname", f"soak{number}@%h"),
                    logs / f"worker-{number}.log"))  # fmt: skip
                processes[f"worker {number}"] = worker.pid
            schedule = ("beat", "--schedule", str(logs / "beat-schedule"))
            beat = stack.enter_context(celery_process(settings, schedule, logs / "beat.log"))
            processes["beat"] = beat.pid
            ports = [port for port, _server in webs]
            with app.app_context():
                register_with_tool(db.session(), f"http://127.0.0.1:{ports[0]}")
                close_connections()
            statement = json.loads(FIXTURE.read_text())
            load = Load(app, ports, seeded.learners, seeded.headers, statement)
            watch = Watch(processes, plain, application, REDIS, every)
            print(f"# soak: {seconds:.0f} s on PostgreSQL and Redis; 2 gunicorn (1 worker x 4 "
                  f"threads), 2 Celery workers (solo), 1 beat; {len(seeded.learners.subjects):,} "
                  f"learners; rates/s {RATES}", flush=True)  # fmt: skip
            stack.callback(watch.finish)  # also on the way out of a failure: no thread left
            stack.callback(load.finish)
            watch.start()
            load.start(RATES)
            _run_for(seconds, load, plain, seeded.question_step)
            load.finish()
            watch.finish()
            drained = _drain(plain, inbox)
    finally:
        smtp.stop()
    status = _report(load, watch, inbox, plain, seconds=seconds, every=every, drained=drained)
    if status:
        for log in sorted(logs.glob("*.log")):
            print(f"# --- the end of {log.name} ---\n{log.read_text(errors='replace')[-3000:]}")
    return status


def _run_for(seconds: float, load: Load, url: str, question_step: int) -> None:
    """Let the load run, offering the answerers the questions delivered meanwhile."""
    deadline = time.monotonic() + seconds
    index = {subject: n for n, subject in enumerate(load.learners.subjects)}
    while time.monotonic() < deadline:
        try:  # a connection each time: the soak goes on (and counts) if PostgreSQL restarts
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as connection:
                rows = connection.execute(
                    "SELECT d.id, p.subject FROM mentoring_deliveries d JOIN people p ON p.id = "
                    "d.person_id LEFT JOIN mentoring_responses r ON r.delivery_id = d.id WHERE "
                    "d.step_id = %s AND d.status = 'delivered' AND r.id IS NULL", (question_step,),
                ).fetchall()  # fmt: skip
            load.offer_questions([(delivery, index[subject]) for delivery, subject in rows])
        except psycopg.Error as exc:
            print(f"# {time.strftime('%H:%M:%S')} could not read the questions: {exc}", flush=True)
        time.sleep(min(3.0, max(0.0, deadline - time.monotonic())))


def _delivered(connection: psycopg.Connection[Any]) -> list[tuple[str, str, int, str]]:
    return connection.execute(
        "SELECT p.subject, s.key, d.round, d.status FROM mentoring_deliveries d "
        "JOIN people p ON p.id = d.person_id JOIN mentoring_steps s ON s.id = d.step_id"
    ).fetchall()


def _drain(url: str, inbox: Inbox) -> bool:
    """Wait for the workers to deliver what is due and send its emails; whether they did."""

    def done() -> bool:
        with psycopg.connect(url, autocommit=True) as connection:
            waiting = connection.execute(
                "SELECT count(*) FROM mentoring_deliveries WHERE status IN ('scheduled', 'held')"
                " AND due_at <= now()").fetchone()  # fmt: skip
            unhanded = connection.execute(
                "SELECT count(*) FROM learning_events WHERE handed_off_at IS NULL"
            ).fetchone()
            delivered = connection.execute(
                "SELECT count(*) FROM mentoring_deliveries WHERE status = 'delivered'"
            ).fetchone()
        with inbox.lock:
            emails = sum(inbox.ids.values())
        return (
            (waiting, unhanded) == ((0,), (0,))
            and delivered is not None
            and (emails >= delivered[0])
        )

    try:
        wait_until(lambda: _quietly(done), DRAIN_SECONDS, "the workers to drain")
    except RuntimeError:
        return False
    time.sleep(2)  # a duplicate email would arrive now
    return True


def _quietly(check: Callable[[], bool]) -> bool:
    """``check()``, or False while PostgreSQL does not answer."""
    try:
        return check()
    except psycopg.Error:
        return False


def _report(load: Load, watch: Watch, inbox: Inbox, url: str, *, seconds: float, every: float,
            drained: bool) -> int:  # fmt: skip
    """Print the figures and the checks; the exit status."""
    problems: list[str] = []
    for name, tally in load.tallies.items():
        count = len(tally.latencies)
        print(f"SOAK {name}_p50: {tally.percentile(0.5):.1f} ms")
        print(f"SOAK {name}_p99: {tally.percentile(0.99):.1f} ms")
        print(f"SOAK {name}_rate: {count / seconds:.2f} requests/s ({count:,} requests)")
        server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
        if tally.failed:
            problems.append(f"{name}: {tally.failed} of {count} requests failed "
                            f"({server_errors} with 5xx), e.g. {tally.errors}")  # fmt: skip
    print(f"# cpu: {watch.cpu_report()}")
    warm_up = min(60.0, seconds / 5)
    print(
        f"# memory and connections, after a {warm_up:.0f} s warm-up, sampled every {every:.0f} s:"
    )
    for series in watch.series.values():
        print(f"#   {series.describe(warm_up)}")
        if not series.flat(warm_up):
            problems.append(f"not flat: {series.describe(warm_up)}")
    if watch.missed:
        problems.append(f"PostgreSQL or Redis did not answer the watch at {watch.missed}")
    if not drained:
        problems.append(f"the workers had not drained {DRAIN_SECONDS} s after the load stopped")
    problems += _checks(load, inbox, url)
    print(f"SOAK statements_stored: {len(load.acked.statements):,} statements")
    print(f"SOAK learners_followed_up: {len(load.acked.triggered):,} learners")
    print(f"SOAK emails: {sum(inbox.ids.values()):,} emails")
    for problem in problems:
        print(f"SOAK FAILED: {problem}")
    print("SOAK held: nothing lost, nothing twice, flat" if not problems else "SOAK did not hold")
    return 1 if problems else 0


def _checks(load: Load, inbox: Inbox, url: str) -> list[str]:
    """What was acknowledged against what is stored and was sent."""
    problems = []
    acked = load.acked
    with psycopg.connect(url, autocommit=True) as connection:
        stored = connection.execute(
            "SELECT count(*), count(DISTINCT statement_id) FROM xapi_statements WHERE "
            "statement_id::text = ANY(%s)", (list(acked.statements),),
        ).fetchone()  # fmt: skip
        rows = _delivered(connection)
        threads = connection.execute("SELECT count(*) FROM threads").fetchone()
        twice = connection.execute(
            "SELECT count(*) FROM (SELECT 1 FROM mentoring_deliveries GROUP BY person_id, "
            "step_id, round HAVING count(*) > 1) AS again").fetchone()  # fmt: skip
    if stored != (len(acked.statements), len(acked.statements)):
        problems.append(f"statements: {len(acked.statements)} acknowledged, stored {stored}")
    subjects = load.learners.subjects
    expected = {(subjects[n], step, 0) for n in acked.triggered for step in ("welcome", "ask")}
    delivered = Counter((subject, key, round_) for subject, key, round_, status in rows
                        if status == "delivered")  # fmt: skip
    not_yet = sum(1 for answer in acked.answered.values() if answer == "not_yet")
    resources = sum(n for (_subject, key, _round), n in delivered.items() if key == "resource")
    missing = expected - set(delivered)
    if missing:
        problems.append(
            f"{len(missing)} expected deliveries not delivered, e.g. {sorted(missing)[:3]}"
        )
    if resources != not_yet:
        problems.append(f"{not_yet} “not yet” answers acknowledged but {resources} resources sent")
    extra = {item for item in delivered if item[1] != "resource"} - expected
    if extra:
        problems.append(f"{len(extra)} deliveries nobody asked for, e.g. {sorted(extra)[:3]}")
    if twice and twice[0]:
        problems.append(f"{twice[0]} steps delivered twice to a learner")
    total = sum(delivered.values())
    emails = sum(inbox.ids.values())
    again = [key for key, n in inbox.ids.items() if n > 1]
    if again or emails != total:
        problems.append(f"{total} delivered, {emails} emails, {len(again)} Message-IDs twice")
    if threads is None or threads[0] != acked.asked:
        problems.append(f"{acked.asked} questions acknowledged, {threads} threads stored")
    return problems


if __name__ == "__main__":
    sys.exit(main())
