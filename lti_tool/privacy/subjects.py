"""Who a request is about, and whether an xAPI agent or a stored value names them.

Most of a person's rows point at ``people.id``. Three kinds do not: a statement as received
(the actor is JSON: an ``account`` on the platform's site, or an ``mbox``), a learning event
whose actor is not resolved yet, and a statement in the outbox. Those are found by the
person's platform user id (``sub``) and email, as ``events.services.actor_keys`` reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Table, select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Person
from lti_tool.database import Base
from lti_tool.errors import NotFound
from lti_tool.events.services import actor_keys, origin
from lti_tool.lti.models import PlatformRegistration


class NoSuchPerson(NotFound):
    """The request names nobody the tool knows."""


@dataclass(frozen=True)
class DataSubject:
    """The person a request is about: their row if the tool has one, and how agents name them."""

    #: The platform (tenant) that vouches for them.
    registration_id: int
    #: Their platform user id (the LTI ``sub``).
    subject: str
    #: Their email, lower-cased, if known.
    email: str | None
    #: Their ``people`` row; none when only statements or unresolved events name them.
    person_id: int | None
    #: The origin of the platform's issuer: accounts on it name platform user ids.
    site: str

    def named_by(self, agent: Any) -> bool:
        """Whether an xAPI agent (or a learning event's actor) names this person."""
        subject, email = actor_keys(agent, self.site)
        return subject == self.subject or (email is not None and email == self.email)

    def in_statement(self, statement: Any) -> bool:
        """Whether any agent of the statement (actor, group member, object, instructor, team,
        or those of a sub-statement) names this person."""
        return any(self.named_by(agent) for agent in agents(statement))


def find(
    session: Session, *, person_id: int | None = None, registration_id: int | None = None,
    subject: str | None = None,
) -> DataSubject:  # fmt: skip
    """The subject of a request, by person id or by platform and ``sub`` (``NoSuchPerson``)."""
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise NoSuchPerson(f"There is no person {person_id}.")
        registration_id, subject = person.registration_id, person.subject
    elif registration_id is None or not subject:
        raise NoSuchPerson("Name the person: --person ID, or --registration R --subject S.")
    registration = session.get(PlatformRegistration, registration_id)
    if registration is None:
        raise NoSuchPerson(f"There is no platform registration {registration_id}.")
    person = session.scalars(
        select(Person).where(Person.registration_id == registration_id, Person.subject == subject)
    ).one_or_none()  # fmt: skip
    email = person.email.lower() if person is not None and person.email else None
    return DataSubject(registration_id, str(subject), email, person.id if person else None,
                       origin(registration.issuer))  # fmt: skip


def agents(statement: Any) -> Iterator[Any]:
    """Every agent a statement names: its actor (and a group's members), an agent object,
    the context's instructor and team, recursively through a sub-statement."""
    if not isinstance(statement, dict):
        return
    found = [statement.get("actor"), statement.get("object")]
    context = statement.get("context")
    if isinstance(context, dict):
        found += [context.get("instructor"), context.get("team")]
    for agent in found:
        if not isinstance(agent, dict):
            continue
        if agent.get("objectType") == "SubStatement":
            yield from agents(agent)
            continue
        yield agent
        members = agent.get("member")
        yield from (members if isinstance(members, list) else [])


def person_columns() -> list[tuple[Table, Any]]:
    """Every (table, column) whose foreign key points at ``people.id``, children last."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(_points_at_people(key) for key in column.foreign_keys):
                found.append((table, column))
    return found


def _points_at_people(key: ForeignKey) -> bool:
    return key.target_fullname == "people.id"
