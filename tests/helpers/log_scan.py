"""Secrets never reach the logs: every record logged during the test run is written to
``test-artifacts/test-run.log`` and, when the run ends, searched for secrets.

What counts as a secret: the shapes credentials take in text (HTTP Basic and Bearer
credentials, JSON Web Tokens, PEM private keys, ``password=``/``client_secret=``/
``token=`` pairs) and every value the run itself made secret: the app's secret key and
each random token drawn from ``secrets`` (API secrets, client secrets, launch states,
registration tokens, signing keys...), watched from the moment they are drawn.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: How credentials look in text.
SHAPES = {
    "HTTP Basic credentials": re.compile(r"Basic [A-Za-z0-9+/]{16,}={0,2}"),
    "a bearer token": re.compile(r"Bearer [A-Za-z0-9._~+/-]{16,}"),
    "a JSON Web Token": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a password or secret parameter": re.compile(
        r"(?i)\b(password|passwd|client_secret|secret|api_key|token)=(?!\*)[^&\s'\"]{8,}"
    ),
}
#: Random tokens shorter than this are nonces and ids, not secrets worth a search.
MIN_SECRET = 20


class LogScan(logging.Handler):
    """Writes every record to a file, and finds secrets in it at the end."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.DEBUG)
        self.set_name("vm-secret-scan")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("w", encoding="utf-8")
        self.watched: set[str] = set()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._file.write(self.format(record).replace("\n", "\n    ") + "\n")
        except Exception:
            self.handleError(record)

    def watch(self, *values: str) -> None:
        """Values that must never be logged."""
        self.watched.update(value for value in values if len(value) >= MIN_SECRET)

    def findings(self) -> list[str]:
        """What was found, a line each (the secret itself cut short)."""
        self._file.flush()
        return find(self.path.read_text(encoding="utf-8").splitlines(), self.watched)

    def close(self) -> None:
        self._file.close()
        super().close()


def find(lines: Iterable[str], watched: set[str]) -> list[str]:
    """Each line with a secret, named and cut short so the report leaks nothing."""
    found = []
    for number, line in enumerate(lines, 1):
        for name, shape in SHAPES.items():
            if match := shape.search(line):
                found.append(f"line {number}: {name} ({match.group(0)[:12]}…)")
        for value in watched:
            if value in line:
                found.append(f"line {number}: a secret the run made ({value[:4]}…)")
    return found


def install(path: Path) -> LogScan:
    """Scan the run's logs; watch every token drawn from ``secrets`` from now on."""
    scan = LogScan(path)
    logging.getLogger().addHandler(scan)
    for name in ("token_urlsafe", "token_hex"):
        setattr(secrets, name, _watching(getattr(secrets, name), scan))
    return scan


def _watching(draw: Callable[..., str], scan: LogScan) -> Callable[..., str]:
    def drawn(*args: Any, **kwargs: Any) -> str:
        value = draw(*args, **kwargs)
        scan.watch(value)
        return value

    return drawn


def log_path() -> Path:
    """Where the run's log goes (VM_TEST_ARTIFACTS, else test-artifacts/)."""
    return Path(os.environ.get("VM_TEST_ARTIFACTS", "test-artifacts")) / "test-run.log"
