"""Admin commands: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

from flask import Flask

from lti_tool.demo import demo_cli
from lti_tool.lti.cli import lti_cli
from xapi.cli import xapi_cli


def register_cli(app: Flask) -> None:
    """Attach every command group (``db`` comes from Flask-Migrate)."""
    app.cli.add_command(demo_cli)
    app.cli.add_command(lti_cli)
    app.cli.add_command(xapi_cli)
