"""xAPI ingest through gunicorn on PostgreSQL: batches of 100 Moodle-shaped statements and
single statements, each with a new id, posted by client threads in this process.

The server is gunicorn (2 workers, 4 threads) on 127.0.0.1 serving the real app on a
PostgreSQL schema of its own; the client shares the machine's two cores with it, so the
figures are a floor. pg_copy_ceiling is this machine's raw PostgreSQL batched insert of
rows of the same size, in the same run, for scale.
Then the store is grown to a million statements (and events) by COPY and batches are
posted again: ingest_batch_at_1m should not be slower than ingest_batch.
Figures: ingest_batch, ingest_single, ingest_batch_at_1m (statements/s), pg_copy_ceiling
(rows/s). bench_lrs.py measures lrs_pull.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import flask_migrate
import orjson
import psycopg
import requests

from bench.database import bench_database
from bench.figures import Figure
from lti_tool import create_app
from lti_tool.extensions import db
from lti_tool.lti.models import PlatformRegistration
from lti_tool.settings import ROOT
from xapi import credentials

FIXTURE = ROOT / "tests" / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
BATCH, BATCHES, SINGLES, CLIENTS = 100, 60, 600, 4
GROWN = 1_000_000


def run() -> Iterator[Figure]:
    """Start gunicorn on a fresh schema, post batches then singles, report the rates."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        settings = {"ENV": "development", "SECRET_KEY": "b" * 40, "INSTANCE_PATH": folder,
                    "DATABASE_URL": url, "BROKER_URL": "memory://", "DEMO_CLOCK": False,
                    "LTI_EMBEDDED_PLATFORM": False}  # fmt: skip
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
            db.session.commit()
            registration_id = registration.id
            made = credentials.create(db.session(), registration_id, "bench")
            db.engine.dispose()
        headers = {
            "Authorization": "Basic "
            + base64.b64encode(f"{made.key}:{made.secret}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json",
        }  # fmt: skip
        port = _free_port()
        variables = {f"VM_{k}": str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in settings.items()}  # fmt: skip
        env = {**os.environ, **variables, "VM_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--threads", "4", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}/xapi/statements"
            _wait(f"http://127.0.0.1:{port}/healthz")
            template = json.loads(FIXTURE.read_text())
            _post_all(base, headers, [_batch(template, BATCH) for _ in range(4)])  # warm up
            batches = [_batch(template, BATCH) for _ in range(BATCHES)]
            batch_rate = BATCH * BATCHES / _post_all(base, headers, batches)
            singles = [_batch(template, 1)[0] for _ in range(SINGLES)]
            single_rate = SINGLES / _post_all(base, headers, singles)
            grown = _grow(url, registration_id, template) if kind == "PostgreSQL" else 0
            later = [_batch(template, BATCH) for _ in range(BATCHES)]
            grown_rate = BATCH * BATCHES / _post_all(base, headers, later)
        finally:
            server.terminate()
            server.wait(timeout=30)
        ceiling = _copy_ceiling(url, template) if kind == "PostgreSQL" else 0.0
    print(f"# ingest on {kind}: gunicorn 2x4, {CLIENTS} client threads", flush=True)
    yield Figure("ingest_batch", batch_rate, "statements/s")
    yield Figure("ingest_single", single_rate, "statements/s")
    yield Figure("ingest_batch_at_1m", grown_rate, f"statements/s (store grown to {grown:,})")
    yield Figure("pg_copy_ceiling", ceiling, "rows/s (machine ceiling)")


def _batch(template: dict[str, Any], size: int) -> list[dict[str, Any]]:
    statements = []
    for _ in range(size):
        statement = copy.deepcopy(template)
        statement["id"] = str(uuid.uuid4())
        statements.append(statement)
    return statements


def _post_all(url: str, headers: dict[str, str], bodies: list[Any]) -> float:
    """Post every body with CLIENTS threads; the seconds it took. Any refusal stops the run.

    Bodies are serialised before the clock starts: the load generator shares the machine,
    and its own JSON work is not the server's.
    """
    queue = [orjson.dumps(body) for body in reversed(bodies)]
    lock, failures = threading.Lock(), []

    def client() -> None:
        with requests.Session() as http:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                answer = http.post(url, data=body, headers=headers, timeout=30)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
                    return

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {seconds} s")
