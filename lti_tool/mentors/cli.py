"""``flask --app wsgi mentors …``: mentor profiles and pairings, for administrators and the demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from flask.cli import AppGroup

from lti_tool.courses.models import Person
from lti_tool.errors import AppError
from lti_tool.extensions import db
from lti_tool.mentors import pairing, profiles

T = TypeVar("T")
mentors_cli = AppGroup("mentors", help="Mentor profiles, and who mentors whom.")


@mentors_cli.command("profile")
@click.option("--person", "person_id", type=int, required=True, help="The mentor (a person id).")
@click.option("--title", required=True, help="E.g. 'Head of training, Lyon'.")
@click.option("--bio", default="", help="A few sentences about them.")
@click.option("--name", "display_name", default="", help="The name learners see (default: "
              "the name the platform shared).")  # fmt: skip
@click.option("--photo", "photo_url", default="", help="An https:// address of their photo.")
def profile(person_id: int, title: str, bio: str, display_name: str, photo_url: str) -> None:
    """Create or update a person's mentor profile."""
    person = db.session.get(Person, person_id)
    if person is None:
        raise click.ClickException(f"There is no person {person_id}.")
    saved = _or_fail(lambda: profiles.save_profile(
        db.session(), person.registration_id, person_id, title=title, bio=bio,
        display_name=display_name, photo_url=photo_url,
    ))  # fmt: skip
    click.echo(f"Mentor profile #{saved.id} of {person.display_name}: {saved.title}.")


@mentors_cli.command("pair")
@click.option("--course", "course_id", type=int, required=True, help="The course id.")
@click.option("--mentor", "mentor_id", type=int, required=True, help="The mentor's person id.")
@click.option("--mentee", "mentee_id", type=int, required=True, help="The learner's person id.")
def pair(course_id: int, mentor_id: int, mentee_id: int) -> None:
    """Make a mentor a learner's mentor in a course (ends their current pairing)."""
    made = _or_fail(lambda: pairing.pair(db.session(), course_id, mentor_id, mentee_id))
    click.echo(f"Person {made.mentee_id} is mentored by person {made.mentor_id} in course "
               f"{course_id}.")  # fmt: skip


@mentors_cli.command("round-robin")
@click.option("--course", "course_id", type=int, required=True, help="The course id.")
def round_robin(course_id: int) -> None:
    """Spread the course's unpaired learners over its mentors, fewest mentees first."""
    made = _or_fail(lambda: pairing.round_robin(db.session(), course_id))
    click.echo(f"Paired {len(made)} learners in course {course_id}.")
    for mentee, mentor in made.items():
        click.echo(f"    person {mentee} -> mentor {mentor}")


@mentors_cli.command("list")
@click.option("--course", "course_id", type=int, required=True, help="The course id.")
def list_mentors(course_id: int) -> None:
    """List a course's mentors and how many learners each mentors."""
    found = profiles.course_mentors(db.session(), course_id)
    if not found:
        click.echo(f"Course {course_id} has no mentors with a profile.")
    counts = pairing.mentee_counts(db.session(), course_id)
    for mentor in found:
        mentees = counts.get(mentor.person_id, 0)
        click.echo(f"person {mentor.person_id}  {mentor.name} — {mentor.title or 'no title'}  "
                   f"({mentees} mentee{'s' if mentees != 1 else ''})")  # fmt: skip


def _or_fail(action: Callable[[], T]) -> T:
    try:
        return action()
    except AppError as error:
        raise click.ClickException(error.message) from None
