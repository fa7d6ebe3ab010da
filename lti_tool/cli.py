"""Admin commands: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

from flask import Flask

from lti_tool.demo import demo_cli
from lti_tool.lms.cli import lms_cli
from lti_tool.lti.cli import lti_cli
from lti_tool.mentoring.channels.cli import channels_cli
from lti_tool.mentoring.cli import mentoring_cli
from lti_tool.mentors.cli import mentors_cli
from lti_tool.privacy.cli import privacy_cli
from lti_tool.topics.cli import topics_cli
from xapi.cli import xapi_cli


def register_cli(app: Flask) -> None:
    """Attach every command group (``db`` comes from Flask-Migrate)."""
    app.cli.add_command(demo_cli)
    app.cli.add_command(lti_cli)
    app.cli.add_command(lms_cli)
    app.cli.add_command(mentors_cli)
    app.cli.add_command(topics_cli)
    app.cli.add_command(mentoring_cli)
    app.cli.add_command(xapi_cli)
    app.cli.add_command(channels_cli)
    app.cli.add_command(privacy_cli)
