"""``flask --app wsgi xapi …``: credentials for statement sources."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lti_tool.errors import NotFound
from lti_tool.extensions import db
from xapi import credentials
from xapi.models import XapiCredential

xapi_cli = AppGroup("xapi", help="Credentials of the sources that send xAPI statements.")


@xapi_cli.command("add-credential")
@click.option(
    "--registration",
    "registration_id",
    type=int,
    required=True,
    help="The platform registration (tenant) the source reports on (lti list).",
)
@click.option("--name", required=True, help="What the source is, e.g. 'Moodle logstore'.")
def add_credential(registration_id: int, name: str) -> None:
    """Make a key and secret for a statement source (the secret is shown only now)."""
    try:
        made = credentials.create(db.session(), registration_id, name)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Credential for {name} (registration #{registration_id}):")
    click.echo(f"  key:    {made.key}")
    click.echo(f"  secret: {made.secret}")
    click.echo(
        "Give both to the source (HTTP Basic); the secret is not kept and cannot be shown again."
    )


@xapi_cli.command("revoke-credential")
@click.argument("key")
def revoke_credential(key: str) -> None:
    """Refuse a credential from now on (what it sent is kept)."""
    try:
        credential = credentials.revoke(db.session(), key)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Revoked {credential.key} ({credential.name}).")


@xapi_cli.command("list-credentials")
def list_credentials() -> None:
    """Every credential, with its tenant and whether it is revoked (never secrets)."""
    rows = db.session.scalars(select(XapiCredential).order_by(XapiCredential.id)).all()
    if not rows:
        click.echo("No xAPI credentials yet: flask --app wsgi xapi add-credential --help")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.key}  registration #{row.registration_id}  {state}  {row.name}")
