"""The declarative base, column types and engine tuning shared by every model."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from psycopg import pq
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    bindparam,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

#: A pooled connection used less than this long ago is not pinged at checkout.
PING_BYPASS_SECONDS = 0.5
_CHECKED_IN = "vm_checked_in"
#: Execution option marking a connection that only reads.
READ_ONLY = "vm_read_only"
#: Stable constraint names, so Alembic migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every model's base; its metadata is the one Alembic migrates."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use lti_tool.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_options(database_url: str, pool_size: int, connect_timeout: int) -> dict[str, Any]:
    """SQLAlchemy engine options for the configured database."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": connect_timeout + 2}}
    return {
        # Liveness is checked at checkout by ping_postgresql (one round trip), not by
        # pool_pre_ping, whose SELECT 1 in a transaction costs three.
        "pool_size": pool_size,
        "connect_args": {"connect_timeout": connect_timeout},
    }


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for postgresql:// URLs (SQLAlchemy would otherwise pick psycopg2)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def ping_postgresql(engine: Engine, bypass_seconds: float = PING_BYPASS_SECONDS) -> None:
    """Check pooled PostgreSQL connections as they are checked out, in one round trip.

    A restarted server leaves dead connections in the pool; a dead one is discarded and
    the pool connects afresh (SQLAlchemy's documented pessimistic disconnect handling).
    A connection back in the pool for less than ``bypass_seconds`` is not pinged: it just
    worked, and a busy web process would otherwise ping before every request (HikariCP's
    ``aliveBypassWindowMs`` does the same). Should the server go away inside that window,
    the query fails once and SQLAlchemy invalidates the whole pool.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: object) -> None:
        returned = record.info.pop(_CHECKED_IN, None)
        if returned is not None and time.monotonic() - returned < bypass_seconds:
            return
        try:
            result = dbapi_connection.pgconn.exec_(b"")
        except Exception as exc:
            raise DisconnectionError("PostgreSQL connection is gone") from exc
        if result.status != pq.ExecStatus.EMPTY_QUERY:
            raise DisconnectionError("PostgreSQL connection is not usable")


def tune_sqlite(engine: Engine) -> None:
    """Make SQLite safe for web, worker and beat processes sharing one file.

    pysqlite's own transaction handling breaks SAVEPOINT and starts transactions lazily;
    we take over (as SQLAlchemy's pysqlite docs show) and BEGIN IMMEDIATE, so a transaction
    that reads and then writes never fails on a lock upgrade while another process writes.
    A connection marked ``read_only()`` begins DEFERRED instead: under WAL a reader never
    waits for a writer, even one in the same process.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextlib.contextmanager
def autocommit(session: Session) -> Iterator[None]:
    """Run a block whose statements each stand alone (reads, or single atomic writes).

    On PostgreSQL the block's statements run in autocommit: psycopg sends BEGIN and COMMIT
    as round trips of their own, and a launch would otherwise spend a third of its database
    time on them. Elsewhere, or when the session is already in a transaction or bound to a
    connection (the tests'), the block runs in the session's transaction as usual. Either
    way the block ends committed; an exception leaves the rollback to the caller. Only for
    code that needs no atomicity across statements.
    """
    bind = session.get_bind()
    postgresql_engine = isinstance(bind, Engine) and bind.dialect.name == "postgresql"
    if postgresql_engine and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    yield
    session.commit()


def read_only(connection: Connection) -> Connection:
    """Mark a connection as one that only reads (SQLite then never waits for a writer)."""
    return connection.execution_options(**{READ_ONLY: True})


def upsert(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    keys: list[str],
    returning: Any = None,
) -> Any:
    """Insert a row, or update it where the unique ``keys`` already match (one statement).

    Safe when two processes insert the same row at once. With ``returning`` (a column),
    the value of that column for the inserted or updated row.
    """
    dialect = session.get_bind().dialect.name
    returning_name = None if returning is None else returning.key
    statement = upsert_statement(model, dialect, tuple(values), tuple(keys), returning_name)
    result = session.execute(statement, with_defaults(model, values))
    return None if returning is None else result.scalar_one()


@functools.cache
def upsert_statement(
    model: type[Base],
    dialect: str,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    returning: str | None,
    *,
    prefix: str = "",
) -> Any:
    """The INSERT … ON CONFLICT for one shape of call, built once (values are bound later).

    Parameters are named ``prefix`` + column (see ``with_defaults``), so several of these
    can share one statement, as common table expressions.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, model.__table__)
    defaulted = [c.name for c in table.columns if c.default is not None and c.name not in columns]
    statement = insert(table).values(
        {name: bindparam(prefix + name) for name in (*columns, *defaulted)}
    )
    updates = {name: statement.excluded[name] for name in columns if name not in keys}
    statement = statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
    return statement if returning is None else statement.returning(table.c[returning])


def with_defaults(model: type[Base], values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The parameters for ``upsert_statement``: Python-side column defaults (created_at…),
    which bound parameters skip, added to ``values``; every name prefixed."""
    filled = {prefix + name: value for name, value in values.items()}
    for column in model.__table__.columns:
        default = column.default
        if column.name not in values and default is not None and hasattr(default, "arg"):
            arg = default.arg
            filled[prefix + column.name] = arg(None) if callable(arg) else arg
    return filled


def insert_new(
    session: Session, table: Table, rows: list[dict[str, Any]], *, keys: list[str], returning: str
) -> list[Any]:
    """Insert the rows whose ``keys`` are not taken yet; the ``returning`` column of those.

    On PostgreSQL the rows travel as one JSON parameter unpacked by ``jsonb_to_recordset``:
    one short statement whatever the number of rows, which psycopg parses once and the
    server prepares (a multi-row VALUES of a hundred rows has thousands of parameters, and
    psycopg re-parses any query over 50 of them on every call). Elsewhere SQLAlchemy's
    multi-row VALUES. A column some rows leave out is NULL in them.
    """
    if not rows:
        return []
    columns = tuple(dict.fromkeys(name for row in rows for name in row))
    if any(len(row) != len(columns) for row in rows):
        rows = [{name: row.get(name) for name in columns} for row in rows]
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        statement = _insert_many(table, keys=tuple(keys), returning=returning)
        return [row[0] for row in session.execute(statement, rows)]
    statement = _insert_recordset(table, columns, tuple(keys), returning, dialect)
    payload = json_text([[row[name] for name in columns] for row in rows])
    return [row[0] for row in session.execute(statement, {"rows": payload})]


@functools.cache
def _insert_many(table: Table, *, keys: tuple[str, ...], returning: str) -> Any:
    return (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(table.c[returning])
    )


@functools.cache
def _insert_recordset(
    table: Table, columns: tuple[str, ...], keys: tuple[str, ...], returning: str, dialect: Dialect
) -> Any:
    names = ", ".join(columns)
    # Rows are arrays (not objects), so each row's JSON names no column.
    fields = ", ".join(
        f"(r.value->>{i})::{table.c[name].type.compile(dialect=dialect)}"
        if not isinstance(table.c[name].type, JSON)
        else f"(r.value->{i})::json"
        for i, name in enumerate(columns)
    )
    return text(
        f"INSERT INTO {table.name} ({names}) "  # noqa: S608 (names come from our own models)
        f"SELECT {fields} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r "
        f"ON CONFLICT ({', '.join(keys)}) DO NOTHING RETURNING {returning}"
    )


def json_text(value: Any) -> str:
    """``value`` as JSON text for a PostgreSQL parameter (text, not bytes: psycopg would send
    bytes as bytea), datetimes in UTC."""
    return orjson.dumps(value, default=_jsonable, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def _jsonable(value: Any) -> Any:
    """Datetimes as UTC (naive ones refused, as UTCDateTime does); orjson writes the rest."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use lti_tool.clock.now()")
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")
