"""``make audit`` says in words what pip-audit found: a vulnerable pin fails, pins that could not
be checked fail (or warn, as CI asks), and only a full check with nothing found passes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).parent.parent / "tools" / "audit.py"
CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}
ADVISORY = {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []}
VULNERABLE = {"name": "jinja2", "version": "3.1.2", "vulns": [ADVISORY]}
SKIPPED = {"name": "redis", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def _audit(monkeypatch: pytest.MonkeyPatch, stdout: str, *args: str) -> int:
    spec = importlib.util.spec_from_file_location("audit", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert "--disable-pip" in command
        return subprocess.CompletedProcess(command, 1, stdout, "ConnectionError: no route")

    monkeypatch.setattr(module.subprocess, "run", run)
    monkeypatch.setattr("sys.argv", ["audit.py", *args])
    return int(module.main())


def _found(*dependencies: dict[str, Any]) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_a_full_check_with_nothing_found_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _audit(monkeypatch, _found(CLEAN)) == 0
    assert "1 pinned packages checked, no known vulnerabilities" in capsys.readouterr().out


def test_a_vulnerable_pin_fails_even_where_the_unreachable_only_warn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _audit(monkeypatch, _found(CLEAN, VULNERABLE, SKIPPED), "--unreachable", "warn") == 1
    out = capsys.readouterr().out
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in: 3.1.3)" in out
    assert "FAILED: 1 pinned package(s) with known vulnerabilities" in out


@pytest.mark.parametrize(
    ("mode", "status", "verdict"), [("fail", 1, "FAILED"), ("warn", 0, "WARNING")]
)
@pytest.mark.parametrize(
    ("stdout", "unchecked"),
    [(_found(CLEAN, SKIPPED), "1 of 2 pins could not be checked"), ("", "no pin could be checked")],
)
def test_pins_that_could_not_be_checked_are_said_to_be(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    stdout: str, unchecked: str, mode: str, status: int, verdict: str,
) -> None:  # fmt: skip
    assert _audit(monkeypatch, stdout, "--unreachable", mode) == status
    out = capsys.readouterr().out
    assert f"audit: {verdict}: {unchecked}" in out
    assert "no clean bill of health" in out
