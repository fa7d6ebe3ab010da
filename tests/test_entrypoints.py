"""Every entry point refuses an unsafe production configuration with a sentence, not a trace."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lti_tool.settings import ROOT

BIN = f"{sys.prefix}/bin"
ENTRY_POINTS = {
    "flask": [f"{BIN}/flask", "--app", "wsgi", "routes"],
    "gunicorn": [f"{BIN}/gunicorn", "--bind", "127.0.0.1:0", "wsgi:app"],
    "celery worker": [f"{BIN}/celery", "-A", "wsgi:celery", "worker"],
}
SAFE = {
    "VM_ENV": "production",
    "VM_SECRET_KEY": "k" * 40,
    "VM_SECRETS_KEY": "1KJD8NJcx9T3Qm0fUpLHRWD8d0I6kVc5Xc2c4tq9y4U=",
    "VM_DATABASE_URL": "postgresql://vm@127.0.0.1:1/vm",
    "VM_BROKER_URL": "redis://127.0.0.1:1/0",
    "VM_LTI_EMBEDDED_PLATFORM": "false",
    "VM_DEMO_CLOCK": "false",
    "VM_XAPI_TOOL_URL": "https://mentor.example.org",
}


def _run(command: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": f"{BIN}:/usr/bin:/bin", **environ},
    )


@pytest.mark.slow
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_production_without_secret_key_exits_naming_it(entry_point: str) -> None:
    result = _run(ENTRY_POINTS[entry_point], {**SAFE, "VM_SECRET_KEY": ""})
    assert result.returncode == 3
    output = result.stdout + result.stderr
    assert "Virtual Mentor cannot start: VM_SECRET_KEY is missing" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"VM_DATABASE_URL": "sqlite:///x.db"}, "VM_DATABASE_URL points at SQLite"),
        ({"VM_LTI_EMBEDDED_PLATFORM": "true"}, "VM_LTI_EMBEDDED_PLATFORM is on"),
        ({"VM_DEMO_CLOCK": "true"}, "VM_DEMO_CLOCK is on"),
        ({"VM_BROKER_URL": ""}, "VM_BROKER_URL is not set to a real broker"),
    ],
)
def test_production_with_embedded_parts_exits_naming_them(
    change: dict[str, str], named: str
) -> None:
    result = _run(ENTRY_POINTS["flask"], {**SAFE, **change})
    assert result.returncode == 3
    assert named in result.stderr


def test_a_safe_production_configuration_starts() -> None:
    result = _run(ENTRY_POINTS["flask"], SAFE)
    assert result.returncode == 0, result.stderr
    assert "/readyz" in result.stdout
