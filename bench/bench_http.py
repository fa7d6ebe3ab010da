"""Request handling inside one process (no network): the cost our own code adds per request.

Figures: healthz and start page requests per second, and readyz's median latency on the
embedded database and broker.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import flask_migrate

from bench.figures import Figure
from lti_tool import create_app
from lti_tool.devplatform.services import register_with_tool
from lti_tool.extensions import close_connections, db

REQUESTS = 2000


def run() -> Iterator[Figure]:
    """Measure on a fresh embedded database with the demo data."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "ENV": "testing",
                "SECRET_KEY": "b" * 40,
                "INSTANCE_PATH": folder,
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
                "BROKER_URL": "filesystem://localhost/",
                "DEMO_CLOCK": False,
            }
        )
        logging.getLogger("lti_tool.access").setLevel(logging.WARNING)
        with app.app_context():
            flask_migrate.upgrade()
            register_with_tool(db.session(), "http://127.0.0.1:8000")
        client = app.test_client()
        yield Figure("healthz", request_rate(client, "/healthz"), "requests/s")
        yield Figure("start_page", request_rate(client, "/", REQUESTS // 4), "requests/s")
        latencies = []
        for _ in range(200):
            started = time.perf_counter()
            assert client.get("/readyz").status_code == 200
            latencies.append((time.perf_counter() - started) * 1000)
        yield Figure("readyz_p50", statistics.median(latencies), "ms")
        with app.app_context():
            close_connections()


def request_rate(client: object, path: str, count: int = REQUESTS) -> float:
    """Requests per second answered 200 for ``path``, in process."""
    get = client.get  # type: ignore[attr-defined]
    started = time.perf_counter()
    for _ in range(count):
        assert get(path).status_code == 200
    return count / (time.perf_counter() - started)
