"""``flask --app wsgi channels …``: the webhooks mentor messages are posted to."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.mentoring.channels import endpoints
from lti_tool.mentoring.channels.models import WebhookEndpoint
from lti_tool.mentoring.channels.webhook import WebhookSettings

channels_cli = AppGroup("channels", help="Where mentor messages go besides the panel (webhooks).")


@channels_cli.command("add-webhook")
@click.option(
    "--registration",
    "registration_id",
    type=int,
    required=True,
    help="The platform registration (tenant) whose learners' messages it receives.",
)
@click.option("--url", required=True, help="The receiver's https address.")
@click.option("--name", default="", help="What it is, e.g. 'ACME Teams, #safety'.")
def add_webhook(registration_id: int, url: str, name: str) -> None:
    """Post a registration's mentor messages as signed JSON to a chat tool's webhook."""
    rules = WebhookSettings.from_config(current_app.config).rules
    try:
        endpoint, secret = endpoints.add(db.session(), registration_id, url, rules, name)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Webhook #{endpoint.id} {endpoint.name} (registration #{registration_id}): "
               f"{endpoint.url}")  # fmt: skip
    click.echo(f"Signing secret (shown once; give it to the receiver): {secret}")
    click.echo("Each post carries X-VM-Timestamp and X-VM-Signature: sha256=<hex HMAC-SHA256 "
               "of '<timestamp>.<body>'>, and Idempotency-Key: delivery-<id>.")  # fmt: skip


@channels_cli.command("list-webhooks")
def list_webhooks() -> None:
    """Every webhook: tenant, address, in use or removed (never secrets)."""
    rows = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    if not rows:
        click.echo("No webhooks yet: flask --app wsgi channels add-webhook --help")
    for row in rows:
        state = "in use" if row.active else f"removed {row.removed_at:%Y-%m-%d %H:%M} UTC"
        click.echo(f"#{row.id}  registration #{row.registration_id}  {row.name}  {row.url}  "
                   f"{state}")  # fmt: skip


@channels_cli.command("remove-webhook")
@click.argument("endpoint_id", type=int)
def remove_webhook(endpoint_id: int) -> None:
    """Stop posting to a webhook and forget its secret."""
    try:
        endpoint = endpoints.remove(db.session(), endpoint_id)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Removed webhook #{endpoint.id} ({endpoint.name}); nothing more is posted to it.")
