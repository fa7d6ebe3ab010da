"""Which real services the tests may use, and what to do when one is missing.

The suite runs on SQLite with no servers by default. Set these to use real services:
  VM_TEST_DATABASE_URL   postgresql://postgres@127.0.0.1:5432/test
  VM_TEST_REDIS_URL      redis://127.0.0.1:6379/15
  VM_TEST_RABBITMQ_URL   amqp://guest:guest@127.0.0.1:5672//
  VM_TEST_REQUIRE_SERVICES=1 turns every skip for a missing service or browser into a
  failure (CI sets it, so the integration tests cannot silently not run there).
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

REQUIRE_SERVICES = os.environ.get("VM_TEST_REQUIRE_SERVICES") == "1"


def service_url(variable: str, what: str) -> str:
    """The URL in ``variable``, or skip (fail under VM_TEST_REQUIRE_SERVICES) without it."""
    url = os.environ.get(variable, "")
    if not url:
        unavailable(f"{what} not configured: set {variable} to run this test")
    elif not reachable(url):
        unavailable(f"{what} at {_host_port(url)} is not answering ({variable})")
    return url


def reachable(url: str, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    host, port = _host_port(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable(reason: str) -> None:
    """Skip, or fail where the services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """Debian's Chromium, or skip (fail under VM_TEST_REQUIRE_SERVICES) without it."""
    path = shutil.which("chromium") or ""
    if not path:
        unavailable("Chromium not installed: `apt-get install chromium` (or `make browser`)")
    return path


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    defaults = {"postgresql": 5432, "redis": 6379, "amqp": 5672}
    return parts.hostname or "127.0.0.1", parts.port or defaults.get(parts.scheme.split("+")[0], 0)
