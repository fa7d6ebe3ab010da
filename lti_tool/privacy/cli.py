"""``flask --app wsgi privacy …``: answer a person's request for their data, or for its erasure,
and purge raw statements past their retention now."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lti_tool.extensions import db
from lti_tool.privacy import erasure, retention, subjects
from lti_tool.privacy.export import export

privacy_cli = AppGroup(
    "privacy",
    help="Export or erase everything the tool holds about a person; purge old statements.",
)

_person = click.option("--person", "person_id", type=int, help="The person's id (see console).")
_registration = click.option(
    "--registration", "registration_id", type=int,
    help="With --subject: the platform registration (tenant) that knows the person.",
)  # fmt: skip
_subject = click.option("--subject", help="With --registration: the platform's user id (sub).")


def _who(
    person_id: int | None, registration_id: int | None, subject: str | None
) -> subjects.DataSubject:
    try:
        return subjects.find(db.session(), person_id=person_id, registration_id=registration_id,
                             subject=subject)  # fmt: skip
    except subjects.NoSuchPerson as exc:
        raise click.ClickException(exc.message) from None


@privacy_cli.command("export")
@_person
@_registration
@_subject
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the document to this file instead of printing it.")  # fmt: skip
def export_command(
    person_id: int | None, registration_id: int | None, subject: str | None, out: Path | None
) -> None:
    """Write everything the tool holds about the person as one JSON document."""
    document = json.dumps(export(db.session(), _who(person_id, registration_id, subject)),
                          indent=2, ensure_ascii=False, sort_keys=True)  # fmt: skip
    if out is None:
        click.echo(document)
    else:
        out.write_text(document + "\n", encoding="utf-8")
        click.echo(f"Wrote everything about the person to {out}.", err=True)


@privacy_cli.command("delete")
@_person
@_registration
@_subject
@click.option("--yes", is_flag=True, help="Confirm: the erasure cannot be undone.")
def delete_command(
    person_id: int | None, registration_id: int | None, subject: str | None, yes: bool
) -> None:
    """Erase everything the tool holds about the person, in one transaction."""
    who = _who(person_id, registration_id, subject)
    if not yes:
        raise click.ClickException("Erasure cannot be undone: run again with --yes to confirm.")
    done = erasure.erase(db.session(), who)
    for table, count in sorted(done.rows.items()):
        if count:
            click.echo(f"  {table}: {count}")
    if done.anonymised:
        click.echo("Their replies in other learners' threads and the agreements they made "
                   "as a mentor are kept, without their name.")  # fmt: skip
    click.echo(f"Erased everything about {who.subject} (registration #{who.registration_id}).")
    click.echo(done.notice())


@privacy_cli.command("purge")
def purge_command() -> None:
    """Purge now what VM_XAPI_RETENTION_DAYS and VM_XAPI_OUTBOX_RETENTION_DAYS no longer keep."""
    purged = retention.purge(db.session(), retention.Retention.from_config(current_app.config))
    click.echo(f"Purged {purged.statements} statement(s) and {purged.outbox} sent outbox "
               f"statement(s); emptied {purged.event_copies} learning event copies.")  # fmt: skip
