"""Pulling 100,000 statements from an LRS over loopback, as the poller does on a worker.

The LRS is a small server in this process answering GET /xapi/statements with pages
prepared before the clock starts (the LRS's own work is not ours); the poll is the real
one: Basic auth, every page through `more`, validation, storage once per id, learning
events, the cursor committed after each page. PostgreSQL (VM_BENCH_DATABASE_URL, default
this machine's). Figure: lrs_pull (statements/s).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import flask_migrate
from flask import Flask, Response, request
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bench.database import bench_database
from bench.figures import Figure
from lti_tool import create_app
from lti_tool.extensions import close_connections, db
from lti_tool.lti.models import PlatformRegistration
from lti_tool.settings import ROOT
from xapi import sources
from xapi.models import Statement
from xapi.pull import PullSettings
from xapi.pull import run as pull

STATEMENTS, PAGE = 100_000, 500
FIXTURE = ROOT / "tests" / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
STORED = "2026-11-20T09:41:12.000Z"
CONSISTENT = "2026-11-21T00:00:00.000Z"
#: Statements were stored a millisecond apart, as in a busy LRS, from here.
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def run() -> Iterator[Figure]:
    """Serve the pages, poll the source once, report statements per second."""
    pages = _pages()
    # Every statement is older than what the LRS vouches for.
    lrs = Flask("bench-lrs")

    @lrs.get("/xapi/statements")
    def statements() -> Response:
        index = int(request.args.get("page", 0))
        answer = Response(pages[index], mimetype="application/json")
        answer.headers["X-Experience-API-Version"] = "1.0.3"
        answer.headers["X-Experience-API-Consistent-Through"] = CONSISTENT
        return answer

    server = make_server("127.0.0.1", 0, lrs, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}/xapi"
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        app = create_app({
            "ENV": "testing", "SECRET_KEY": "b" * 40, "INSTANCE_PATH": folder,
            "DATABASE_URL": url, "BROKER_URL": "memory://", "DEMO_CLOCK": False,
            "LTI_EMBEDDED_PLATFORM": False, "XAPI_LRS_PAGE_SIZE": PAGE, "LOG_LEVEL": "WARNING",
        })  # fmt: skip
        with app.app_context():
            flask_migrate.upgrade()
            session = db.session()
            registration = PlatformRegistration(
                issuer="https://moodle.example.org", client_id="bench", name="Bench Moodle",
                auth_login_url="https://moodle.example.org/a",
                auth_token_url="https://moodle.example.org/t",  # noqa: S106 (a URL)
                key_set_url="https://moodle.example.org/k",
            )  # fmt: skip
            session.add(registration)
            session.commit()
            source = sources.add(session, sources.NewSource(
                registration_id=registration.id, name="Bench LRS", endpoint=endpoint,
                username="reader", password="bench-password",  # noqa: S106 (a bench's)
            ), production=False)  # fmt: skip
            settings = PullSettings.from_config(app.config)
            started = time.perf_counter()
            pull(session, source.id, settings)
            seconds = time.perf_counter() - started
            kept = session.scalar(select(func.count()).select_from(Statement))
            close_connections()
    server.shutdown()
    if kept != STATEMENTS:
        raise RuntimeError(f"the poll kept {kept} statements of {STATEMENTS}")
    print(f"# lrs pull on {kind}: {STATEMENTS} statements, {PAGE} a page", flush=True)
    yield Figure("lrs_pull", STATEMENTS / seconds, "statements/s")


def _pages() -> list[bytes]:
    """The LRS's answers: each page's statements and the relative `more` of the next."""
    template = json.loads(FIXTURE.read_text())
    template.update(stored=STORED, timestamp=STORED, version="1.0.0", authority={
        "objectType": "Agent", "account": {"homePage": "https://lrs.example.org",
                                           "name": "moodle-logstore"}})  # fmt: skip
    pages = []
    for index in range(STATEMENTS // PAGE):
        chunk = []
        for n in range(PAGE):
            number = index * PAGE + n
            stored = (START + timedelta(milliseconds=number)).isoformat(timespec="milliseconds")
            chunk.append({**template, "id": f"00000000-0000-4000-8000-{number:012d}",
                          "stored": stored.replace("+00:00", "Z")})  # fmt: skip
        last = index == STATEMENTS // PAGE - 1
        more = "" if last else f"/xapi/statements?page={index + 1}"
        pages.append(json.dumps({"statements": chunk, "more": more}).encode())
    return pages
