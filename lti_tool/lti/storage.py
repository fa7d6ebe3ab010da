"""Launch storage: short-lived values shared by every web process, with expiry.

Login state and nonces, pending launches and platform key sets live here. The database
serves the embedded default; Redis (VM_LTI_STORAGE_URL) is the shared cache in production.
``take`` is atomic, so a value meant for one use (a login state) can only be used once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol, cast

import redis
from flask import Flask, current_app
from sqlalchemy import Table, bindparam, delete, select

from lti_tool import clock
from lti_tool.database import UTCDateTime, upsert
from lti_tool.extensions import db
from lti_tool.lti.models import StoredValue

_TABLE = cast(Table, StoredValue.__table__)
# Core, not ORM (these rows are never objects), and built once: every login and launch runs them.
_GET = select(_TABLE.c.value).where(
    _TABLE.c.key == bindparam("key"), _TABLE.c.expires_at > bindparam("now", type_=UTCDateTime)
)
_TAKE = (
    delete(_TABLE)
    .where(_TABLE.c.key == bindparam("key"))
    .returning(_TABLE.c.value, _TABLE.c.expires_at)
)


class LaunchStorage(Protocol):
    """Keyed JSON values that expire."""

    def put(self, key: str, value: Any, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        ...

    def get(self, key: str) -> Any | None:
        """The value, or None if absent or expired."""
        ...

    def take(self, key: str) -> Any | None:
        """Remove and return the value atomically (None if absent or expired)."""
        ...


class DatabaseStorage:
    """Launch storage in the tool's database.

    Each call commits the current session: storage is used at the edges of the login and
    launch requests, and a second connection would wait on SQLite's write lock held by this
    request's own transaction. On PostgreSQL the table is unlogged (see its migration), so
    these commits do not wait for the write-ahead log to reach the disk.
    """

    def put(self, key: str, value: Any, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        session = db.session()
        expires = clock.now() + timedelta(seconds=ttl)
        upsert(session, StoredValue, {"key": key, "value": value, "expires_at": expires}, ["key"])
        session.commit()

    def get(self, key: str) -> Any | None:
        """The value, or None if absent or expired."""
        session = db.session()
        value = session.scalar(_GET, {"key": key, "now": clock.now()})
        session.commit()  # end the read: callers may go on to network calls
        return value

    def take(self, key: str) -> Any | None:
        """Remove and return the value atomically (None if absent or expired)."""
        session = db.session()
        row = session.execute(_TAKE, {"key": key}).first()
        session.commit()
        if row is None or row[1] <= clock.now():
            return None
        return row[0]

    def purge_expired(self) -> int:
        """Delete expired values; returns how many."""
        session = db.session()
        result = session.execute(delete(_TABLE).where(_TABLE.c.expires_at <= clock.now()))
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


class RedisStorage:
    """Launch storage in Redis, shared by every web process."""

    def __init__(self, url: str, timeout: float) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def put(self, key: str, value: Any, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        self._redis.set(f"vm:{key}", json.dumps(value), ex=ttl)

    def get(self, key: str) -> Any | None:
        """The value, or None if absent or expired."""
        raw = self._redis.get(f"vm:{key}")
        return None if raw is None else json.loads(raw)

    def take(self, key: str) -> Any | None:
        """Remove and return the value atomically (None if absent or expired)."""
        raw = self._redis.getdel(f"vm:{key}")
        return None if raw is None else json.loads(raw)


def init_storage(app: Flask) -> None:
    """Choose the storage from VM_LTI_STORAGE_URL."""
    url = app.config["LTI_STORAGE_URL"]
    storage: LaunchStorage = (
        RedisStorage(url, app.config["LTI_HTTP_TIMEOUT_SECONDS"]) if url else DatabaseStorage()
    )
    app.extensions["lti_storage"] = storage


def storage() -> LaunchStorage:
    """The app's launch storage."""
    return current_app.extensions["lti_storage"]  # type: ignore[no-any-return]
