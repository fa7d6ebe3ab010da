"""The processes and services a benchmark runs against: Redis as the broker, gunicorn serving
the app, a real Celery worker; each started from the repository with the app's settings as
``VM_*`` variables, and stopped after.

VM_BENCH_REDIS_URL names the Redis database the benchmarks may empty (default: 14 on this
machine's server).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import redis
import requests
from flask import Flask
from sqlalchemy import select

from lti_tool import create_app
from lti_tool.extensions import db
from lti_tool.ops.models import JobHeartbeat
from lti_tool.settings import ROOT

REDIS = os.environ.get("VM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
#: Rate limits a benchmark's single client cannot reach: the limits are still counted (their
#: cost is part of the figures), but one address or source sending flat out is never refused.
BENCH_RATE_LIMITS = dict.fromkeys(
    ("RATE_LIMITS_LOGIN", "RATE_LIMITS_LAUNCH", "RATE_LIMITS_STATEMENTS"), "1000000/minute"
)


def redis_broker() -> str | None:
    """The bench's Redis database, emptied (no worker drains it between runs), if it answers."""
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    redis.Redis.from_url(REDIS).flushdb()
    return REDIS


def environment(settings: dict[str, Any]) -> dict[str, str]:
    """This process's environment with the app's settings as ``VM_*`` variables."""
    variables = {f"VM_{key}": str(value).lower() if isinstance(value, bool) else str(value)
                 for key, value in settings.items()}  # fmt: skip
    return {**os.environ, **variables, "VM_LOG_LEVEL": "WARNING"}


@contextlib.contextmanager
def gunicorn(
    settings: dict[str, Any], workers: int = 2, threads: int = 4, app: str = "wsgi:app"
) -> Iterator[int]:
    """The app (``app``, gunicorn's way of naming it) under gunicorn on 127.0.0.1; yields its
    port once it answers /healthz."""
    with gunicorn_process(settings, workers, threads, app) as (port, _server):
        yield port


@contextlib.contextmanager
def gunicorn_process(
    settings: dict[str, Any], workers: int = 2, threads: int = 4, app: str = "wsgi:app"
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """As ``gunicorn``, also yielding the server's (master) process."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), "--threads", str(threads), "--log-level", "warning", app],
        cwd=ROOT, env=environment(settings),
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def celery_worker(settings: dict[str, Any], ready: Callable[[], bool]) -> Iterator[None]:
    """One Celery worker (one process, one task at a time) on the app's broker and queue;
    yields once ``ready()`` (polled) says it has run something. Its log is shown on failure."""
    with (
        tempfile.NamedTemporaryFile("w+b", suffix=".log") as log,
        celery_process(settings, WORKER, Path(log.name)),
    ):
        wait_until(ready, 60, "the Celery worker to start", Path(log.name))
        yield


#: A worker as the benchmarks run it: one process, one task at a time.
WORKER = ("worker", "--pool", "solo", "--without-mingle", "--without-gossip",
          "--without-heartbeat")  # fmt: skip


@contextlib.contextmanager
def celery_process(
    settings: dict[str, Any], args: tuple[str, ...], log: Path, level: str = "WARNING"
) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A wsgi:celery <args>`` (a worker or beat) with the app's settings, its output
    in ``log``; stopped (SIGTERM, then waited for) after."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", *args, "--loglevel", level],
            cwd=ROOT, env=environment(settings), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def app_on(settings: dict[str, Any]) -> Flask:
    """The app on a migrated database, its Celery app the one tasks are sent through."""
    app = create_app(settings)
    with app.app_context():
        flask_migrate.upgrade()
    celery = app.extensions["celery"]
    celery.set_default()
    celery.set_current()
    return app


def worker_ready(app: Flask) -> Callable[[], bool]:
    """Send the worker a heartbeat task; the check says whether it has run it."""
    name = f"bench-worker-{secrets.token_hex(4)}"
    app.extensions["celery"].send_task("ops.heartbeat", args=[name])

    def ready() -> bool:
        with app.app_context(), db.engine.connect() as connection:
            found = connection.execute(
                select(JobHeartbeat.name).where(JobHeartbeat.name == name)
            ).first()
        return found is not None

    return ready


def wait_until(
    condition: Callable[[], object], seconds: float, what: str, log: Path | None = None
) -> None:
    """Poll ``condition`` every 10 ms until it is truthy; fail saying ``what`` otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    detail = f"\n{log.read_text(errors='replace')[-3000:]}" if log else ""
    raise RuntimeError(f"timed out after {seconds} s waiting for {what}{detail}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, seconds: float = 30) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {seconds} s")


def statement_headers(key: str, secret: str) -> dict[str, str]:
    """The headers of a statement POST with this xAPI source's Basic credentials."""
    auth = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json"}  # fmt: skip
