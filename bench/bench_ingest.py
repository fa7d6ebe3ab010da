"""xAPI ingest through gunicorn on PostgreSQL: batches of 100 Moodle-shaped statements and
single statements, each with a new id, posted by client threads in this process.

The server is gunicorn (2 workers, 4 threads) on 127.0.0.1 serving the real app on a
PostgreSQL schema of its own; the client shares the machine's two cores with it, so the
figures are a floor. The client is http.client on keep-alive connections: requests costs
about three times its CPU per request, which the server would lose. The statements'
learner and course are known, so every event is resolved and waits for hand-off; the
wake-ups go to Redis when it answers (as in production), else to an in-process broker.
pg_copy_ceiling is this machine's raw PostgreSQL batched insert of rows of the same size,
in the same run, for scale; healthz through the same server and client is printed as the
HTTP ceiling. handoff_drain is the hand-off of every waiting event afterwards (topics
mapped, marked handed), in this process.
Then the store is grown to a million statements (and events) by COPY and batches are
posted again: ingest_batch_at_1m should not be slower than ingest_batch.
Figures: ingest_batch, ingest_single, ingest_batch_at_1m, handoff_drain (statements/s or
events/s), pg_copy_ceiling (rows/s). bench_lrs.py measures lrs_pull.
"""

from __future__ import annotations

import copy
import http.client
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import flask_migrate
import orjson
import psycopg

from bench.database import bench_database
from bench.figures import Figure
from bench.services import BENCH_RATE_LIMITS, gunicorn, redis_broker, statement_headers
from lti_tool import create_app
from lti_tool.courses.models import Course, Person
from lti_tool.events import handoff
from lti_tool.extensions import close_connections, db
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.settings import ROOT
from xapi import credentials

FIXTURE = ROOT / "tests" / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
BATCH, BATCHES, SINGLES, CLIENTS = 100, 60, 600, 4
GROWN = 1_000_000


def run() -> Iterator[Figure]:
    """Start gunicorn on a fresh schema, post batches then singles, report the rates."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        settings = {"ENV": "development", "SECRET_KEY": "b" * 40, "INSTANCE_PATH": folder,
                    "DATABASE_URL": url, "BROKER_URL": redis_broker() or "memory://",
                    "DEMO_CLOCK": False, "LTI_EMBEDDED_PLATFORM": False,
                    **BENCH_RATE_LIMITS}  # fmt: skip
        app = create_app(settings)
        with app.app_context():
            flask_migrate.upgrade()
            registration = PlatformRegistration(
                issuer="https://moodle.example.org", client_id="bench", name="Bench Moodle",
                auth_login_url="https://moodle.example.org/a",
                auth_token_url="https://moodle.example.org/t",  # noqa: S106 (a URL, not a secret)
                key_set_url="https://moodle.example.org/k",
            )  # fmt: skip
            db.session.add(registration)
            db.session.flush()
            _learner_and_course(registration)
            db.session.commit()
            registration_id = registration.id
            made = credentials.create(db.session(), registration_id, "bench")
            close_connections()
        headers = statement_headers(made.key, made.secret)
        with gunicorn(settings) as port:
            template = json.loads(FIXTURE.read_text())
            post = _Poster(port, headers)
            post.all([_batch(template, BATCH) for _ in range(4)])  # warm up
            batches = [_batch(template, BATCH) for _ in range(BATCHES)]
            batch_rate = BATCH * BATCHES / post.all(batches)
            singles = [_batch(template, 1)[0] for _ in range(SINGLES)]
            single_rate = SINGLES / post.all(singles)
            healthz = SINGLES / post.all([None] * SINGLES, path="/healthz")
            with app.app_context():
                started = time.perf_counter()
                drained = handoff.hand_off(db.session())
                drain_rate = drained / (time.perf_counter() - started)
                close_connections()
            grown = _grow(url, registration_id, template) if kind == "PostgreSQL" else 0
            later = [_batch(template, BATCH) for _ in range(BATCHES)]
            grown_rate = BATCH * BATCHES / post.all(later)
        ceiling = _copy_ceiling(url, template) if kind == "PostgreSQL" else 0.0
    broker = settings["BROKER_URL"].split("://")[0]
    print(f"# ingest on {kind}, {broker} broker: gunicorn 2x4, {CLIENTS} client threads; "
          f"healthz through the same: {healthz:,.0f} requests/s", flush=True)  # fmt: skip
    yield Figure("ingest_batch", batch_rate, "statements/s")
    yield Figure("ingest_single", single_rate, "statements/s")
    yield Figure("ingest_batch_at_1m", grown_rate, f"statements/s (store grown to {grown:,})")
    yield Figure("handoff_drain", drain_rate, f"events/s ({drained:,} events handed off)")
    yield Figure("pg_copy_ceiling", ceiling, "rows/s (machine ceiling)")


def _learner_and_course(registration: PlatformRegistration) -> None:
    """The fixture's learner (Moodle user 3) and course (Moodle course 2), as a launch or a
    roster would have recorded them."""
    deployment = Deployment(registration_id=registration.id, deployment_id="1")
    db.session.add(deployment)
    db.session.flush()
    db.session.add(Course(deployment_id=deployment.id, context_id="2", title="Bench course"))
    db.session.add(Person(registration_id=registration.id, subject="3", name="Ana Learner"))


def _batch(template: dict[str, Any], size: int) -> list[dict[str, Any]]:
    statements = []
    for _ in range(size):
        statement = copy.deepcopy(template)
        statement["id"] = str(uuid.uuid4())
        statements.append(statement)
    return statements


class _Poster:
    """Posts bodies to the server with CLIENTS threads on keep-alive connections."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers

    def all(self, bodies: list[Any], path: str = "/xapi/statements") -> float:
        """Send every body (None: a GET); the seconds it took. Any refusal stops the run.

        Bodies are serialised before the clock starts: the load generator shares the
        machine, and its own JSON work is not the server's.
        """
        queue = [None if body is None else orjson.dumps(body) for body in reversed(bodies)]
        lock, failures = threading.Lock(), []

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                while True:
                    with lock:
                        if not queue:
                            return
                        body = queue.pop()
                    method = "GET" if body is None else "POST"
                    connection.request(method, path, body=body, headers=self.headers)
                    answer = connection.getresponse()
                    text = answer.read()
                    if answer.status != 200:
                        failures.append(f"{answer.status} {text[:200]!r}")
                        return
            finally:
                connection.close()

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"the endpoint refused a request: {failures[0]}")
        return time.perf_counter() - started


def _grow(url: str, registration_id: int, template: dict[str, Any], rows: int = GROWN) -> int:
    """Fill the store to ``rows`` statements (and their learning events) with COPY, then
    ANALYZE (as autovacuum would on a live server) and CHECKPOINT; returns how many
    statements it holds."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    stored = "2026-11-20T09:41:12+00:00"
    actor = json.dumps(template["actor"])
    with psycopg.connect(plain) as connection:
        with connection.cursor().copy(
            "COPY xapi_statements (registration_id, statement_id, version, body, stored) FROM STDIN"
        ) as copy_in:
            for _ in range(rows):
                statement_id = str(uuid.uuid4())
                body = json.dumps({**template, "id": statement_id, "stored": stored})
                copy_in.write_row((registration_id, statement_id, "1.0.3", body, stored))
        with connection.cursor().copy(
            "COPY learning_events (idempotency_key, registration_id, actor, verb, activity_id,"
            " activity_name, completion, success, occurred_at, source, raw, recorded_at) "
            "FROM STDIN"
        ) as copy_in:
            for number in range(rows):
                copy_in.write_row((
                    f"xapi:{registration_id}:grown-{number}", registration_id, actor,
                    template["verb"]["id"], template["object"]["id"], "Active listening check",
                    True, True, stored, "xapi", "{}", stored,
                ))  # fmt: skip
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE xapi_statements")
        connection.execute("ANALYZE learning_events")
        # Write the load out now, so its checkpoint does not land in the measurement.
        connection.execute("CHECKPOINT")
        total = connection.execute("SELECT count(*) FROM xapi_statements").fetchone()
    return int(total[0]) if total else 0


def _copy_ceiling(url: str, template: dict[str, Any], rows: int = 20_000) -> float:
    """Rows per second PostgreSQL takes by COPY of statement-sized JSON rows."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    body = json.dumps(template)
    with psycopg.connect(plain) as connection:
        connection.execute("CREATE TEMP TABLE ceiling (id uuid, body json)")
        started = time.perf_counter()
        with connection.cursor().copy("COPY ceiling (id, body) FROM STDIN") as copy_in:
            for _ in range(rows):
                copy_in.write_row((uuid.uuid4(), body))
        connection.commit()
        return rows / (time.perf_counter() - started)
