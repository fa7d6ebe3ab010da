"""Fixtures: ``app``, ``db`` (a session rolled back after each test), ``client``, ``runner``.

The suite runs on a temporary SQLite file by default and on PostgreSQL when
VM_TEST_DATABASE_URL names one (each run gets its own schema, dropped at the end).
See tests/helpers/services.py for the variables that switch real services on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy

from lti_tool import create_app
from lti_tool.clock import FixedClock
from lti_tool.extensions import close_connections
from lti_tool.extensions import db as _db
from lti_tool.panel.cache import page_cache
from tests.helpers import log_scan
from tests.helpers.services import REQUIRE_SERVICES
from tests.helpers.smtp import Mailbox, smtp_server

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32
RATE_LIMITED = ("LOGIN", "LAUNCH", "QUESTIONS", "REPLIES", "STATEMENTS")
CATALOG_VACUUM = (
    "VACUUM pg_catalog.pg_attribute, pg_catalog.pg_class, pg_catalog.pg_depend, "
    "pg_catalog.pg_type, pg_catalog.pg_index, pg_catalog.pg_constraint"
)


def pytest_report_header() -> list[str]:
    """Say which database and services this run uses."""
    database = "PostgreSQL" if os.environ.get("VM_TEST_DATABASE_URL") else "SQLite"
    brokers = [name for name in ("REDIS", "RABBITMQ") if os.environ.get(f"VM_TEST_{name}_URL")]
    return [
        f"virtual-mentor: database {database}; "
        f"brokers: {', '.join(brokers) or 'embedded only'}; "
        f"services required: {'yes' if REQUIRE_SERVICES else 'no'}"
    ]


@contextlib.contextmanager
def own_database(folder: Path) -> Iterator[str]:
    """A database of one's own: a fresh PostgreSQL schema (dropped after), or a SQLite file."""
    base_url = os.environ.get("VM_TEST_DATABASE_URL")
    if not base_url:
        yield f"sqlite:///{folder / 'test.sqlite3'}"
        return
    schema = f"vm_test_{secrets.token_hex(4)}"
    plain_url = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            # Clean up after ourselves where autovacuum is off (as on this project's machines):
            # every run's dropped tables would otherwise bloat the catalogs for good.
            connection.execute(CATALOG_VACUUM)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this test run's own: a fresh PostgreSQL schema, or a SQLite file."""
    with own_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instance folder of this test run."""
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def app_settings(database_url: str, instance_path: Path) -> dict[str, Any]:
    """Settings every test app starts from."""
    return {
        "ENV": "testing",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "BROKER_URL": "memory://",
        "INSTANCE_PATH": str(instance_path),
        "DEMO_CLOCK": False,
        "LTI_EMBEDDED_PLATFORM": False,
        # The suite launches, asks and posts statements from one address far faster than
        # anyone could; tests/test_rate_limits.py checks the limits with tight ones.
        **{f"RATE_LIMITS_{name}": "1000000/minute" for name in RATE_LIMITED},
    }


def _close_connections(application: Flask) -> None:
    with application.app_context():
        close_connections()


@pytest.fixture(scope="session")
def app(app_settings: dict[str, Any]) -> Iterator[Flask]:
    """The app, on a database migrated to head once per run."""
    application = create_app(app_settings)
    with application.app_context():
        flask_migrate.upgrade()
    yield application
    _close_connections(application)


@pytest.fixture
def make_app(app_settings: dict[str, Any], app: Flask) -> Iterator[Callable[..., Flask]]:
    """Build another app on the same (migrated) database with some settings changed."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        built.append(create_app({**app_settings, **overrides}))
        return built[-1]

    yield build
    for application in built:
        _close_connections(application)


@pytest.fixture
def db(app: Flask) -> Iterator[SQLAlchemy]:
    """The database, inside a transaction rolled back after the test.

    Code under test may commit: its commits release savepoints of the outer transaction.
    """
    with app.app_context():
        page_cache().clear()  # its pages were rendered from data rolled back since
        connection = _db.engine.connect()
        transaction = connection.begin()
        _db.session.remove()
        _db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db: SQLAlchemy) -> FlaskClient:
    """A test client whose requests see (and roll back with) the test's data."""
    return app.test_client()


@pytest.fixture
def frozen_clock(app: Flask) -> Iterator[FixedClock]:
    """Stop the app's clock at a known moment; ``frozen_clock.advance()`` moves it."""
    clock = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    original = app.extensions["clock"]
    app.extensions["clock"] = clock
    yield clock
    app.extensions["clock"] = original


@pytest.fixture
def runner(app: Flask, db: SQLAlchemy) -> FlaskCliRunner:
    """A runner for ``flask`` commands, inside the test's transaction."""
    return app.test_cli_runner()


_passed_integration: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count integration tests that really ran and passed."""
    if report.when == "call" and report.passed and "integration" in report.keywords:
        _passed_integration.append(report.nodeid)


_log_scan: log_scan.LogScan | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Every record logged during the run goes to test-artifacts/test-run.log, searched for
    secrets when the run ends (``tests/helpers/log_scan.py``)."""
    global _log_scan  # noqa: PLW0603 (one scan per run)
    _log_scan = log_scan.install(log_scan.log_path())
    _log_scan.watch(TEST_SECRET_KEY)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run whose logs hold a secret fails. Where services are required (CI), a run in
    which no integration test passed fails."""
    findings = _log_scan.findings() if _log_scan is not None else []
    if findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"Secrets in the run's logs ({_log_scan and _log_scan.path}):",
                                red=True)  # fmt: skip
            for finding in findings[:50]:
                reporter.write_line(f"  {finding}", red=True)
    if REQUIRE_SERVICES and exitstatus == 0 and not _passed_integration:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "VM_TEST_REQUIRE_SERVICES=1 but no integration test ran and passed.", red=True
            )


@pytest.fixture
def broker(app: Flask) -> Iterator[Callable[[], list[object]]]:
    """Read what reached the (in-memory, real kombu) broker's queue."""
    celery: Celery = app.extensions["celery"]
    # Tasks go through the current Celery app: the last one made, which may be another
    # test's (make_app) with a broker that is long gone. Make this app's current again.
    celery.set_default()
    celery.set_current()
    queue_name = celery.conf.task_default_queue

    def drain() -> list[object]:
        bodies = []
        with celery.connection_for_read() as connection:
            queue = connection.SimpleQueue(queue_name)
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return bodies
                bodies.append(message.headers["task"])
                bodies.append(message.payload[0])
                message.ack()

    drain()
    yield drain
    drain()


@pytest.fixture
def smtp_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """The app sends email through a real SMTP server on 127.0.0.1."""
    box = Mailbox()
    with smtp_server(box) as (host, port):
        for name, value in {
            "SMTP_HOST": host,
            "SMTP_PORT": port,
            "SMTP_SECURITY": "none",
            "SMTP_FROM": "mentor@vm.example.org",
            "SMTP_TIMEOUT_SECONDS": 2,
        }.items():
            monkeypatch.setitem(app.config, name, value)
        yield box
