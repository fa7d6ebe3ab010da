"""/readyz tells the truth while PostgreSQL or Redis is down, and recovers without a restart.

These stop and restart this machine's own services with the commands the machine documents,
so they run only where the suite is allowed to (root, local service, VM_TEST_* set).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.processes import wait_for
from tests.helpers.services import reachable, service_url, unavailable


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )


def _require_local_control(tool: str, url: str) -> None:
    if os.geteuid() != 0 or not shutil.which(tool):
        unavailable(f"stopping the service needs root and {tool}")
    if "127.0.0.1" not in url and "localhost" not in url:
        unavailable("the service is not on this machine")


@pytest.mark.integration
@pytest.mark.slow
def test_readyz_follows_postgresql_down_and_back(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    url = service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    _require_local_control("pg_ctlcluster", url)
    if not Path("/etc/postgresql").is_dir():
        unavailable("no local PostgreSQL cluster in /etc/postgresql")
    client = make_app(DATABASE_CONNECT_TIMEOUT=1).test_client()
    assert client.get("/readyz").status_code == 200
    try:
        _pg_ctl("stop")
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json["error"].startswith("database unreachable")
        assert down.json["checks"]["broker"]["ok"] is True
    finally:
        _pg_ctl("start")
    wait_for(lambda: reachable(url), 30, "PostgreSQL to accept connections")
    # The same app, not restarted: stale pooled connections are replaced by themselves.
    wait_for(lambda: client.get("/readyz").status_code == 200, 30, "/readyz to recover")


REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


@pytest.mark.integration
@pytest.mark.slow
def test_readyz_follows_redis_down_and_back(make_app: Callable[..., Flask]) -> None:
    url = service_url("VM_TEST_REDIS_URL", "Redis")
    _require_local_control("redis-server", url)
    client = make_app(BROKER_URL=url, BROKER_CONNECT_TIMEOUT=1).test_client()
    assert client.get("/readyz").status_code == 200
    try:
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"],
            timeout=30,
            capture_output=True,
            check=False,
        )
        wait_for(lambda: not reachable(url), 15, "Redis to stop")
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json["error"].startswith("broker unreachable")
        assert down.json["checks"]["database"]["ok"] is True
    finally:
        if not reachable(url):
            subprocess.run(REDIS_START, check=True, timeout=30, capture_output=True)
    wait_for(lambda: reachable(url), 30, "Redis to accept connections")
    wait_for(lambda: client.get("/readyz").status_code == 200, 30, "/readyz to recover")
