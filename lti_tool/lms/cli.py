"""``flask --app wsgi lms …``: the LMS connections completions are read through."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.lms import connections
from lti_tool.lms.models import LmsConnection, LmsKind

lms_cli = AppGroup("lms", help="Connections to Moodle's or Canvas's API, to read completions.")


@lms_cli.command("add-connection")
@click.option(
    "--registration",
    "registration_id",
    type=int,
    required=True,
    help="The platform registration (tenant) whose courses it reads (see lti list).",
)
@click.option("--kind", type=click.Choice([k.value for k in LmsKind]), required=True)
@click.option("--url", required=True, help="The LMS's site address (https://…).")
@click.option("--name", default="", help="What the LMS is, e.g. 'ACME Moodle'.")
@click.option(
    "--token-stdin",
    is_flag=True,
    help="Read the token from standard input (else it is asked for, unseen).",
)
def add_connection(registration_id: int, kind: str, url: str, name: str, token_stdin: bool) -> None:
    """Read a platform's completions from its LMS's API, every VM_LMS_POLL_SECONDS."""
    token = sys.stdin.readline().strip() if token_stdin else click.prompt("Token", hide_input=True)
    new = connections.NewConnection(registration_id=registration_id, kind=LmsKind(kind),
                                    url=url, token=token, name=name)  # fmt: skip
    production = current_app.config["ENV"] == "production"
    try:
        connection = connections.add(db.session(), new, production=production)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"LMS connection #{connection.id} {connection.name} (registration "
               f"#{registration_id}): {connection.base_url}; the completions of its "
               "courses are being read.")  # fmt: skip


@lms_cli.command("list-connections")
def list_connections() -> None:
    """Every LMS connection: tenant, kind, address, how its reads go (never tokens)."""
    session = db.session()
    rows = session.scalars(select(LmsConnection).order_by(LmsConnection.id)).all()
    if not rows:
        click.echo("No LMS connections yet: flask --app wsgi lms add-connection --help")
    for row in rows:
        click.echo(f"#{row.id}  registration #{row.registration_id}  {row.kind.value}  "
                   f"{row.name}  {row.base_url}")  # fmt: skip
        click.echo(f"    {connections.summary(session, row)}")


@lms_cli.command("remove-connection")
@click.argument("connection_id", type=int)
def remove_connection(connection_id: int) -> None:
    """Stop reading an LMS and forget its token (the events it brought stay)."""
    try:
        connection = connections.remove(db.session(), connection_id)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Removed LMS connection #{connection.id} ({connection.name}); its events stay.")
