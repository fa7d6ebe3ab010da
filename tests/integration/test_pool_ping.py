"""Pooled PostgreSQL connections killed by the server are replaced without a failed request."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import create_engine, text

from lti_tool.database import normalise_database_url, ping_postgresql
from tests.helpers.services import service_url


def _engine(url: str, bypass_seconds: float) -> object:
    engine = create_engine(normalise_database_url(url), pool_size=1, max_overflow=0)
    ping_postgresql(engine, bypass_seconds)
    return engine


def _backend_pid(engine: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.1)  # let the server close the socket


@pytest.mark.integration
def test_an_idle_connection_the_server_dropped_is_replaced_at_checkout() -> None:
    url = service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    engine = _engine(url, bypass_seconds=0.05)
    first = _backend_pid(engine)
    _terminate(url, first)  # sleeps past the bypass window
    assert _backend_pid(engine) != first  # the ping found it dead; the query still ran
    engine.dispose()  # type: ignore[attr-defined]


@pytest.mark.integration
def test_a_connection_used_moments_ago_is_not_pinged() -> None:
    url = service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    engine = _engine(url, bypass_seconds=60)
    first = _backend_pid(engine)
    _terminate(url, first)
    # Inside the window the dead connection is handed out unchecked: the query fails once,
    # SQLAlchemy invalidates the pool, and the next checkout connects afresh.
    with pytest.raises(Exception, match=r"terminat|closed|server"):
        _backend_pid(engine)
    assert _backend_pid(engine) != first
    engine.dispose()  # type: ignore[attr-defined]
