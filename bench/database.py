"""The database a benchmark runs on: a PostgreSQL schema of its own, or SQLite if none.

VM_BENCH_DATABASE_URL names the PostgreSQL server (default: this machine's).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CATALOG_VACUUM = "VACUUM pg_catalog.pg_attribute, pg_catalog.pg_class, pg_catalog.pg_depend"


@contextlib.contextmanager
def bench_database(folder: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL schema of the benchmark's own (dropped after), or a SQLite file."""
    base = os.environ.get("VM_BENCH_DATABASE_URL", DEFAULT_PG)
    plain, schema = base.split("?")[0], f"vm_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=2) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SQLite (no PostgreSQL)"
        return
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}", "PostgreSQL"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            connection.execute(CATALOG_VACUUM)  # autovacuum may be off (it is here)
