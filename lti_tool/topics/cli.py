"""``flask --app wsgi topics …``: what is taught, and which activities teach it."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.topics.models import Topic
from lti_tool.topics.services import add_topic

topics_cli = AppGroup("topics", help="Topics (what is taught) and the activities that teach them.")


@topics_cli.command("add")
@click.option(
    "--registration",
    "registration_id",
    type=int,
    required=True,
    help="The platform registration (tenant) it belongs to (see lti list).",
)
@click.option(
    "--course",
    "course_id",
    type=int,
    default=None,
    help="The course it belongs to; leave out for the organisation's library.",
)
@click.option("--name", required=True, help="What is taught, e.g. 'Active listening'.")
@click.option("--description", default="", help="A sentence or two for mentors.")
@click.option("--activity", "activities", multiple=True,
              help="An activity IRI, or a pattern with * (repeat for several).")  # fmt: skip
def add(
    registration_id: int,
    course_id: int | None,
    name: str,
    description: str,
    activities: tuple[str, ...],
) -> None:
    """Add a topic and the activities that teach it."""
    try:
        topic = add_topic(
            db.session(), registration_id, name, course_id=course_id,
            description=description, activities=activities,
        )  # fmt: skip
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Topic #{topic.id} {topic.name!r}: {len(topic.activities)} activities.")


@topics_cli.command("list")
@click.option("--registration", "registration_id", type=int, required=True,
              help="The platform registration (tenant).")  # fmt: skip
def list_topics(registration_id: int) -> None:
    """List a platform's topics and their activities."""
    topics = db.session.scalars(
        select(Topic)
        .where(Topic.registration_id == registration_id)
        .options(selectinload(Topic.activities))
        .order_by(Topic.id)
    ).all()
    if not topics:
        click.echo(f"Registration #{registration_id} has no topics.")
    for topic in topics:
        scope = f"course #{topic.course_id}" if topic.course_id else "library"
        click.echo(f"#{topic.id} {topic.name} ({scope})")
        for activity in topic.activities:
            click.echo(f"    {activity.pattern}")
