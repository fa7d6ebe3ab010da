"""The run's secret scan finds what it is for (the run's own logs are searched when it ends:
tests/helpers/log_scan.py) and leaves plain log lines alone."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest

from tests.helpers.log_scan import LogScan, find


@pytest.mark.parametrize(
    ("line", "named"),
    [
        (
            "GET https://lms.example.org/api with Authorization: Bearer 3f9a8b7c6d5e4f3a2b1c",
            "bearer",
        ),
        ("source said Basic a2V5OnNlY3JldC1zZWNyZXQtc2VjcmV0", "Basic"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJl", "JSON Web Token"),
        ("key -----BEGIN RSA PRIVATE KEY----- MIIE", "private key"),
        ("POST /webservice/rest/server.php?wstoken=x&token=abcdef0123456789", "secret parameter"),
    ],
)
def test_credentials_in_a_log_line_are_found_and_not_repeated(line: str, named: str) -> None:
    [finding] = find([line], set())
    assert named in finding
    assert "0123456789" not in finding
    assert "c2lnbmF0dXJl" not in finding


def test_a_secret_the_run_drew_is_found_wherever_it_is_logged(tmp_path: Path) -> None:
    scan = LogScan(tmp_path / "run.log")
    logger = logging.getLogger("tests.log_scan")
    logger.propagate = False  # the run's own scan must not see this test's planted secret
    logger.addHandler(scan)
    try:
        drawn = secrets.token_urlsafe(32)  # watched by the run's scan, and by this one:
        scan.watch(drawn)
        logger.warning("request 7f3e GET /panel/ 200 4.0ms")
        assert scan.findings() == []
        logger.warning("client registered with secret %s", drawn)
        assert scan.findings() == [f"line 2: a secret the run made ({drawn[:4]}…)"]
    finally:
        logger.removeHandler(scan)
        logger.propagate = True
        scan.close()
