"""A full LTI launch against the embedded platform: the tool's server time per launch.

Measured per launch, as server time (inside the WSGI application, response body and
teardown included; the test client's own work is not): /lti/login (state, nonce,
redirect) + /lti/launch (id_token verification, state use, upserts of course, person and
enrollment) + the landing page render. The platform's auth step is the LMS's time.
Runs on PostgreSQL (VM_BENCH_DATABASE_URL, default this machine's) in a schema of its
own, SQLite if none.
Figures: launch_p50, launch_p99 (ms), the three phases' medians, launch_jwks_fetches
(key-set fetches in the run), and launch_reference_healthz: the same process's in-process
/healthz rate, measured in the same run, to tell a slow machine from slow code (this VM's
speed varies by 40% over an hour; at ~4,900 requests/s it is at its usual speed).
"""

from __future__ import annotations

import gc
import logging
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask_migrate
from werkzeug.serving import make_server

from bench.bench_http import request_rate
from bench.database import bench_database
from bench.figures import Figure
from bench.services import BENCH_RATE_LIMITS
from lti_tool import create_app
from lti_tool.devplatform.directory import COURSES, role_in
from lti_tool.devplatform.services import authorize, login_initiation, register_with_tool
from lti_tool.extensions import close_connections, db
from lti_tool.lti import keysets

LAUNCHES, WARM_UP = 400, 40


def run() -> Iterator[Figure]:
    """Launch LAUNCHES times as the demo people; report server-time percentiles."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        app = create_app({
            "ENV": "testing", "SECRET_KEY": "b" * 40, "INSTANCE_PATH": folder,
            "DATABASE_URL": url, "BROKER_URL": "memory://", "DEMO_CLOCK": False,
            "LTI_EMBEDDED_PLATFORM": True, **BENCH_RATE_LIMITS,
        })  # fmt: skip
        logging.getLogger("lti_tool.access").setLevel(logging.WARNING)
        with app.app_context():
            flask_migrate.upgrade()
        server = make_server("127.0.0.1", 0, app, threaded=True)  # serves the platform's JWKS
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with app.app_context():
            register_with_tool(db.session(), base)
        reference = request_rate(app.test_client(), "/healthz")
        gc.collect()
        gc.freeze()  # as wsgi.py does once the app is built
        fetches = _count_key_set_fetches()
        server_ms = _time_requests(app)
        client, secret = app.test_client(), app.config["SECRET_KEY"]
        people = [(c, sub) for c in COURSES.values() for sub, _ in c.members if role_in(c, sub)]
        timings, phases = [], []
        for number in range(LAUNCHES + WARM_UP):
            course, sub = people[number % len(people)]
            _launch(app, client, base, course.context_id, sub, secret=secret)
            phase_times = tuple(server_ms[-3:])
            if number >= WARM_UP:
                timings.append(sum(phase_times))
                phases.append(phase_times)
        server.shutdown()
        with app.app_context():
            close_connections()
    timings.sort()
    print(f"# launch on {kind}: {LAUNCHES} launches, {len(people)} people", flush=True)
    yield Figure("launch_p50", statistics.median(timings), "ms")
    yield Figure("launch_p99", timings[int(len(timings) * 0.99) - 1], "ms")
    for index, name in enumerate(("login", "verify_and_record", "landing")):
        yield Figure(f"launch_{name}_p50", statistics.median(p[index] for p in phases), "ms")
    yield Figure("launch_reference_healthz", reference, "requests/s (machine speed)")
    yield Figure("launch_jwks_fetches", fetches[0], f"fetches in {LAUNCHES + WARM_UP} launches")


def _launch(app: object, client: object, base: str, course: str, sub: str, *, secret: str) -> None:
    """One launch: login, the platform's auth (not timed), launch, landing."""
    params = login_initiation(base, base, course, sub, storage=False, secret=secret)
    login = client.get("/lti/login", query_string=params, base_url=base)  # type: ignore[attr-defined]
    assert login.status_code == 302, login.status_code
    auth = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    with app.app_context():  # type: ignore[attr-defined]
        form = authorize(db.session(), base, auth, secret)  # the platform's time, not ours
    landing = client.post("/lti/launch", base_url=base, data={  # type: ignore[attr-defined]
        "id_token": form["id_token"], "state": form["state"]})  # fmt: skip
    assert landing.status_code == 303, landing.get_data(as_text=True)[:300]
    page = client.get(landing.headers["Location"], base_url=base)  # type: ignore[attr-defined]
    assert page.status_code == 200


def _time_requests(app: Any) -> list[float]:
    """Record the server time (ms) of every request the tool answers from now on."""
    timings: list[float] = []
    inner = app.wsgi_app

    def timed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        started = time.perf_counter()
        body = list(inner(environ, start_response))  # the whole response, then teardown
        timings.append((time.perf_counter() - started) * 1000)
        return body

    app.wsgi_app = timed
    return timings


def _count_key_set_fetches() -> list[int]:
    count = [0]
    original = keysets.fetch_key_set

    def counting(url: str, timeout: float) -> dict[str, object]:
        count[0] += 1
        return original(url, timeout)

    keysets.fetch_key_set = counting  # type: ignore[assignment]
    return count
