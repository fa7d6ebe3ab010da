"""``flask --app wsgi mentoring …``: follow-up plans from a TOML or JSON file, rules switched
on and off, dry runs, backfills and broadcasts, sessions attended and survey results (for
administrators and scripts; mentors do most of this in the console)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.mentoring import dryrun, meetings, plans, rules, surveys
from lti_tool.mentoring.broadcast import broadcast

mentoring_cli = AppGroup("mentoring", help="Follow-up plans, trigger rules and broadcasts.")


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        plan = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise click.ClickException(
            f"{path} is not valid {path.suffix[1:].upper()}: {exc}"
        ) from None
    return dict(plan)


@mentoring_cli.command("add-plan")
@click.option("--registration", "registration_id", type=int, required=True,
              help="The platform registration (tenant) it belongs to.")  # fmt: skip
@click.option("--course", "course_id", type=int, default=None,
              help="Only this course; leave out for every course of the platform.")  # fmt: skip
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def add_plan(registration_id: int, course_id: int | None, path: Path) -> None:
    """Store a follow-up plan (sequence, steps, rules) from a TOML or JSON file; its rules
    stay off until switched on."""
    try:
        sequence, found = plans.store(db.session(), registration_id, _read(path), course_id)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Sequence #{sequence.id} {sequence.name!r}; rules (off): "
               f"{', '.join(f'#{rule.id}' for rule in found) or 'none'}.")  # fmt: skip


@mentoring_cli.command("switch")
@click.argument("rule_id", type=int)
@click.argument("state", type=click.Choice(["on", "off"]))
def switch(rule_id: int, state: str) -> None:
    """Switch a rule on (it acts on events from now on) or off."""
    try:
        rules.switch(db.session(), rule_id, state == "on")
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Rule #{rule_id} is {state}.")


@mentoring_cli.command("dry-run")
@click.argument("rule_id", type=int)
@click.option("--since", type=click.DateTime(), default=None,
              help="Events from this time (UTC); default the last 30 days.")  # fmt: skip
def dry_run(rule_id: int, since: datetime | None) -> None:
    """Show who the rule would reach and what they would get when; changes nothing."""
    try:
        planned = dryrun.dry_run(db.session(), rule_id, since=_utc(since))
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    for item in planned:
        click.echo(f"person {item.person_id} course {item.course_id}: {item.step} "
                   f"at {item.due_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    click.echo(f"{len(planned)} deliveries.")


@mentoring_cli.command("backfill")
@click.argument("rule_id", type=int)
@click.option("--since", type=click.DateTime(), default=None, help="Events from this time (UTC).")
def backfill(rule_id: int, since: datetime | None) -> None:
    """Apply a switched-on rule to events from before it was switched on."""
    try:
        started = rules.backfill(db.session(), rule_id, since=_utc(since))
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{started} journeys started.")


@mentoring_cli.command("broadcast")
@click.option("--course", "course_id", type=int, required=True)
@click.option("--sequence", "sequence_id", type=int, required=True)
def send_broadcast(course_id: int, sequence_id: int) -> None:
    """Start a sequence for every active learner of a course."""
    started = broadcast(db.session(), course_id, sequence_id, by="an administrator")
    db.session.commit()
    click.echo(f"{started} learners reached.")


@mentoring_cli.command("attended")
@click.option("--session", "message_id", type=int, required=True,
              help="The session (its message id).")  # fmt: skip
@click.option("--course", "course_id", type=int, required=True,
              help="The course a walk-in (who never answered) came from.")  # fmt: skip
@click.argument("person_ids", type=int, nargs=-1, required=True)
def attended(message_id: int, course_id: int, person_ids: tuple[int, ...]) -> None:
    """Record who came to a session (each is told to the LRS once)."""
    try:
        marked = meetings.mark_attended(db.session(), message_id, course_id, person_ids)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{marked} newly recorded as present; {len(set(person_ids)) - marked} already were.")


@mentoring_cli.command("survey-results")
@click.argument("message_id", type=int)
def survey_results(message_id: int) -> None:
    """How learners answered each Likert and choice item of a survey."""
    for item, counts in surveys.distribution(db.session(), message_id).items():
        click.echo(f"{item}: " + ", ".join(f"{key} {n}" for key, n in counts.items()))


def _utc(value: datetime | None) -> datetime | None:
    """A time typed on the command line, taken as UTC."""
    return None if value is None else value.replace(tzinfo=UTC)
