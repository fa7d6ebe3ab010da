"""``flask --app wsgi xapi …``: credentials for statement sources, LRSs to read from and send
to, and the outbox of statements on their way out."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from lti_tool.errors import AppError, NotFound
from lti_tool.extensions import db
from xapi import credentials, outbox, sources
from xapi.delivery import sending_lrs
from xapi.models import LrsPurpose, LrsSource, XapiCredential
from xapi.validation import SUPPORTED_VERSIONS

xapi_cli = AppGroup(
    "xapi",
    help="Credentials of the sources that send xAPI statements; LRSs the tool reads and sends "
    "to; the outbox.",
)


#: --registration N: the tenant whose learners a source or an LRS reports on.
_registration = click.option(
    "--registration",
    "registration_id",
    type=int,
    required=True,
    help="The platform registration (tenant) it reports on (see lti list).",
)


@xapi_cli.command("add-credential")
@_registration
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


@xapi_cli.command("add-lrs")
@_registration
@click.option("--name", required=True, help="What the LRS is, e.g. 'ACME Learning Locker'.")
@click.option("--endpoint", required=True, help="The LRS's xAPI endpoint (https://…/xapi).")
@click.option("--username", required=True, help="The HTTP Basic user name the LRS gave.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    help="The HTTP Basic password (asked for, unseen, when not given).",
)
@click.option(
    "--xapi-version",
    type=click.Choice(SUPPORTED_VERSIONS),
    default="1.0.3",
    show_default=True,
    help="The xAPI version the LRS speaks.",
)
@click.option("--verb", help="Only statements with this verb id.")
@click.option("--activity", help="Only statements about this activity id.")
@click.option(
    "--related-activities",
    is_flag=True,
    help="The activity filter also matches context activities.",
)
@click.option(
    "--agent", help="Only statements by or about this agent (JSON, e.g. '{\"mbox\": …}')."
)
@click.option(
    "--related-agents",
    is_flag=True,
    help="The agent filter also matches instructors, teams and authorities.",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    help="Read statements stored after this instant only (default: all).",
)
@click.option("--read", is_flag=True, help="Read statements from it (the default).")
@click.option(
    "--send", is_flag=True, help="Send it what learners do in the tool (one LRS per registration)."
)
def add_lrs(registration_id: int, name: str, read: bool, send: bool, **options: Any) -> None:
    """Read an organisation's LRS every few minutes, send it statements, or both."""
    since = options.pop("since")
    new = sources.NewSource(
        registration_id=registration_id, name=name, endpoint=options.pop("endpoint"),
        username=options.pop("username"), password=options.pop("password"),
        xapi_version=options.pop("xapi_version"), filters=options,
        since=since if since is None or since.tzinfo else since.replace(tzinfo=UTC),
        purpose=LrsPurpose.BOTH if read and send else LrsPurpose.SEND if send else LrsPurpose.READ,
    )  # fmt: skip
    production = current_app.config["ENV"] == "production"
    try:
        source = sources.add(db.session(), new, production=production)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    queued = {LrsPurpose.READ: "its first poll is queued",
              LrsPurpose.SEND: "the registration's statements go to it from now on",
              LrsPurpose.BOTH: "its first poll is queued and the registration's statements "
                               "go to it from now on"}[source.purpose]  # fmt: skip
    click.echo(f"LRS source #{source.id} {source.name} (registration #{registration_id}): "
               f"{source.endpoint}; {queued}.")  # fmt: skip


@xapi_cli.command("list-lrs")
def list_lrs() -> None:
    """Every LRS: tenant, endpoint, filters, how polls and sends go (never passwords)."""
    rows = db.session.scalars(select(LrsSource).order_by(LrsSource.id)).all()
    if not rows:
        click.echo("No LRS sources yet: flask --app wsgi xapi add-lrs --help")
    for row in rows:
        filters = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(row.filters.items()))
        click.echo(f"#{row.id}  registration #{row.registration_id}  {row.name}  {row.endpoint}")
        click.echo(f"    {row.purpose}, user {row.username}, xAPI {row.xapi_version}, "
                   f"{filters or 'no filters'}")  # fmt: skip
        if row.reads:
            click.echo(f"    read: {sources.summary(row)}")
        if row.sends:
            click.echo(f"    sent: {sources.sending_summary(row)}")


@xapi_cli.command("remove-lrs")
@click.argument("source_id", type=int)
def remove_lrs(source_id: int) -> None:
    """Stop reading an LRS and forget its password (the statements it brought stay)."""
    try:
        source = sources.remove(db.session(), source_id)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Removed LRS source #{source.id} ({source.name}); its statements stay.")


@xapi_cli.command("outbox")
def show_outbox() -> None:
    """Statements on their way to each registration's LRS: waiting, given up on, and why."""
    session = db.session()
    states = outbox.waiting(session)
    if not states:
        click.echo("The outbox is empty: learners have done nothing in the tool to tell yet.")
    for state in states:
        lrs = sending_lrs(session, state.registration_id)
        where = (f"LRS #{lrs.id} {lrs.name}, {sources.sending_summary(lrs)}" if lrs
                 else "no LRS to send to: they wait for one (xapi add-lrs --send)")  # fmt: skip
        oldest = (f", the oldest since {state.oldest_pending:%Y-%m-%d %H:%M} UTC"
                  if state.oldest_pending else "")  # fmt: skip
        click.echo(f"registration #{state.registration_id}: {state.pending} waiting{oldest}, "
                   f"{state.delivered} delivered, {state.failed} given up on")  # fmt: skip
        click.echo(f"    {where}")
        if state.last_error and state.pending:
            click.echo(f"    last error: {state.last_error}")
    for row in outbox.failed(session):
        click.echo(f"given up on {row.statement_id} ({row.kind}, registration "
                   f"#{row.registration_id}): {row.last_error}")  # fmt: skip
