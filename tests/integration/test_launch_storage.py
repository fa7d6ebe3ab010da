"""Launch storage on Redis (production) behaves like the database storage: single use, expiry."""

from __future__ import annotations

import secrets
import time

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

from lti_tool.lti.storage import DatabaseStorage, LaunchStorage, RedisStorage
from tests.helpers.services import service_url, unavailable


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> LaunchStorage:
    if request.param == "redis":
        return RedisStorage(service_url("VM_TEST_REDIS_URL", "Redis"), timeout=2)
    request.getfixturevalue("db")
    return DatabaseStorage()


def test_values_are_taken_once(store: LaunchStorage) -> None:
    key = f"state:{secrets.token_hex(8)}"
    store.put(key, {"nonce": "n-1"}, ttl=60)
    assert store.get(key) == {"nonce": "n-1"}
    assert store.take(key) == {"nonce": "n-1"}
    assert store.take(key) is None
    assert store.get(key) is None


def test_values_expire(store: LaunchStorage) -> None:
    key = f"state:{secrets.token_hex(8)}"
    store.put(key, [1, 2], ttl=1)
    time.sleep(1.2)
    assert store.get(key) is None
    assert store.take(key) is None


def test_expired_values_are_purged_and_live_ones_kept(
    app: object, db: object, frozen_clock: object
) -> None:
    """The periodic lti.purge_storage task empties what has expired (Redis expires its own)."""
    from datetime import timedelta

    from lti_tool.lti import tasks  # registers lti.purge_storage with every Celery app

    store = DatabaseStorage()
    store.put("state:old", 1, ttl=60)
    store.put("state:new", 2, ttl=600)
    frozen_clock.advance(timedelta(seconds=120))  # type: ignore[attr-defined]
    # This app's own Celery task, so it runs in this app's context (and frozen clock).
    purge = app.extensions["celery"].tasks[tasks.purge_storage.name]  # type: ignore[attr-defined]
    assert purge.apply().get() == 1
    assert store.get("state:new") == 2
    assert store.take("state:old") is None


@pytest.mark.integration
def test_launch_storage_skips_the_write_ahead_log_on_postgresql(db: SQLAlchemy) -> None:
    """Logins and launches then commit without waiting for the disk."""
    if db.engine.dialect.name != "postgresql":
        unavailable("PostgreSQL not configured: set VM_TEST_DATABASE_URL to run this test")
    persistence = db.session.scalar(
        text(
            "SELECT relpersistence FROM pg_class "
            "WHERE relname = 'lti_storage' AND relnamespace = current_schema()::regnamespace"
        )
    )
    assert persistence == "u"  # unlogged
