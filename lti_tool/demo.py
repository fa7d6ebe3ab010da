"""The embedded demo: demo data, the demo clock, and web + worker + beat in one command."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import urllib.request
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lti_tool.devplatform.mentor import seed_mentor
from lti_tool.devplatform.services import register_with_tool, rotate_keys
from lti_tool.extensions import db
from lti_tool.ops.services import advance_demo_clock, demo_clock_offset, reset_demo_clock

_DURATION = re.compile(r"^(\d+)([dhms])$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


@click.group("demo", cls=AppGroup)
@with_appcontext
def demo_cli() -> None:
    """The embedded demo (not available in production)."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("Demo commands are not available in production.")


@demo_cli.command("seed")
@click.option(
    "--base-url", default="http://127.0.0.1:8000", show_default=True,
    help="Where the demo is served (the embedded platform's issuer lives under it).",
)  # fmt: skip
def seed_command(base_url: str) -> None:
    """Register the embedded platform with the tool and give its instructor a mentor profile
    (safe to run again)."""
    registration = register_with_tool(db.session(), base_url.rstrip("/"))
    mentor = seed_mentor(db.session(), registration.id)
    click.echo(f"Demo ready: {registration.name} registered as {registration.issuer}; "
               f"{mentor.display_name} mentors its courses.")  # fmt: skip


@demo_cli.command("rotate-platform-key")
def rotate_platform_key_command() -> None:
    """Make the embedded platform sign with a new key (the old one stays published)."""
    key = rotate_keys(db.session())
    click.echo(f"The embedded platform now signs with {key.kid}.")


@demo_cli.command("clock")
@click.option(
    "--advance", "advance", metavar="DURATION", help="Move time forward, e.g. 1d, 3h, 30m."
)
@click.option("--reset", is_flag=True, help="Return to real time.")
def clock_command(advance: str | None, reset: bool) -> None:
    """Show, fast-forward or reset the demo clock (follow-ups fall due as if time passed)."""
    if not current_app.config["DEMO_CLOCK"]:
        raise click.ClickException("The demo clock is off (VM_DEMO_CLOCK=false).")
    if reset:
        reset_demo_clock(db.session())
    elif advance:
        advance_demo_clock(db.session(), parse_duration(advance))
    offset = demo_clock_offset(db.session())
    click.echo(
        f"Demo clock: {offset // 86400}d {offset % 86400 // 3600}h "
        f"{offset % 3600 // 60}m ahead of real time."
    )


def parse_duration(text: str) -> int:
    """Seconds in a duration like 2d, 6h, 15m or 30s."""
    match = _DURATION.match(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration like 2d, 6h, 15m or 30s.")
    return int(match[1]) * _UNIT_SECONDS[match[2]]


@demo_cli.command("run")
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
def run_command(port: int) -> None:
    """Run web, worker and beat together on 127.0.0.1; Ctrl-C stops all of them."""
    from honcho.manager import Manager  # noqa: PLC0415 (only this command needs it)

    bin_dir = Path(sys.executable).parent
    url = f"http://127.0.0.1:{port}/"
    # The workers build links (emails) and statements outside any request: they need the
    # address the demo is served on, unless one was set.
    env = {**os.environ, "VM_XAPI_TOOL_URL": current_app.config["XAPI_TOOL_URL"] or url}
    manager = Manager()
    manager.add_process(
        "web",
        f"{bin_dir}/gunicorn --bind 127.0.0.1:{port} --workers 2 --threads 4 "
        "--error-logfile - wsgi:app",
        env=env,
    )
    manager.add_process(
        "worker",
        f"{bin_dir}/celery -A wsgi:celery worker --pool threads --concurrency 4 -l INFO",
        env=env,
    )
    manager.add_process("beat", f"{bin_dir}/celery -A wsgi:celery beat -l INFO", env=env)
    threading.Thread(target=_announce_when_up, args=(url,), daemon=True).start()
    manager.loop()
    sys.exit(manager.returncode)


def _announce_when_up(url: str, wait_seconds: float = 60) -> None:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}healthz", timeout=1):  # noqa: S310 (our own URL)
                click.secho(
                    f"\n  Virtual Mentor is running: open {url}\n  Ctrl-C stops it.\n",
                    fg="green",
                    bold=True,
                )
                return
        except OSError:
            time.sleep(0.5)
    click.secho(f"The web process did not answer at {url} within {wait_seconds:.0f}s.", fg="red")
