"""``make audit``: known vulnerabilities in the pinned dependencies (constraints.txt), by pip-audit.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) about every pin.
There are three outcomes, each said in words:

- every pin was checked and none has a known vulnerability: exit 0;
- a pin has a known vulnerability that IGNORED does not explain: it is listed with the versions
  that fix it, exit 1 (raise the pin in pyproject.toml and constraints.txt);
- some pins could not be checked (the service did not answer, or does not know the version, as
  behind a mirror that serves only the package index): they are counted with the reason, exit 1;
  with ``--unreachable warn`` (CI, see the README's testing section) a warning and exit 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "constraints.txt"
#: Vulnerability id -> why it is not fixed here (no fixed release yet, or it cannot apply to us).
IGNORED: dict[str, str] = {}


def main() -> int:
    """Audit the pins; print what was found; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unreachable", choices=("fail", "warn"), default="fail",
                        help="what to do when pins could not be checked")  # fmt: skip
    unreachable = parser.parse_args().unreachable
    ignores = [flag for vuln in IGNORED for flag in ("--ignore-vuln", vuln)]
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(PINS), "--no-deps",
         "--disable-pip", "--format", "json", "--progress-spinner", "off", *ignores],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        dependencies = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        reason = (result.stderr.strip().splitlines() or ["no answer"])[-1][:300]
        return _unchecked(unreachable, "no pin could be checked", reason)
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    for dep in vulnerable:
        _report(dep)
    for vuln, why in IGNORED.items():
        print(f"audit: {vuln} ignored: {why}")
    if vulnerable:
        print(f"audit: FAILED: {len(vulnerable)} pinned package(s) with known vulnerabilities.")
        return 1
    if skipped:
        first = skipped[0]["skip_reason"]
        return _unchecked(
            unreachable, f"{len(skipped)} of {len(dependencies)} pins could not be checked", first
        )
    print(f"audit: {len(dependencies)} pinned packages checked, no known vulnerabilities.")
    return 0


def _report(dependency: dict[str, Any]) -> None:
    for vuln in dependency["vulns"]:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
        print(f"audit: {dependency['name']} {dependency['version']}: {vuln['id']} "
              f"(fixed in: {fixes})")  # fmt: skip


def _unchecked(unreachable: str, unchecked: str, reason: str) -> int:
    verdict = "WARNING" if unreachable == "warn" else "FAILED"
    print(
        f"audit: {verdict}: {unchecked} for known vulnerabilities, so this is no clean bill "
        f"of health. pip-audit says: {reason}. It asks PyPI's JSON API "
        "(https://pypi.org/pypi/<name>/<version>/json); run make audit where that answers."
    )
    return 0 if unreachable == "warn" else 1


if __name__ == "__main__":
    sys.exit(main())
