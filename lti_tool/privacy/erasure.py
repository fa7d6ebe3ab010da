"""Erasure: everything the tool holds about one person, removed in one transaction.

Every row that points at the person (``subjects.person_columns``, found from the metadata,
so a table added later is covered without a change here) is deleted, or has the pointer
emptied where the foreign key says ``SET NULL`` (a delivery sent in a mentor's name, a
thread addressed to one). Statements as received, unresolved learning events and outbox
statements that name the person are found by their actor. A thread goes with its learner,
replies of mentors included. Survey tallies and other course figures are computed from the
rows that remain, so the person simply stops counting.

A mentor or instructor who wrote in other learners' threads, or agreed terms with a mentee,
keeps that content for the learners' sake: their ``people`` row stays as an anonymous author
(no name, email, picture or platform id; its ``sub`` replaced), and everything else of theirs
goes. If the person launches again the platform's ``sub`` matches nothing: a new person starts
afresh.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, exists, select, update
from sqlalchemy.orm import Session

import lti_tool.models  # noqa: F401 (every table in the metadata)
from lti_tool.courses.models import Person
from lti_tool.events.models import LearningEvent
from lti_tool.lti.models import StoredValue
from lti_tool.mentors.models import MentoringAgreement
from lti_tool.privacy.subjects import DataSubject, person_columns
from lti_tool.threads.models import Post, Thread
from xapi.models import OutboxStatement, Statement

#: Columns whose rows an anonymised author keeps: replies in others' threads, agreed terms.
KEPT_FOR_OTHERS = {("thread_posts", "author_id"), ("mentoring_agreements", "mentor_id")}
#: Rows read (and deleted) per round trip when scanning statements by actor.
CHUNK = 1000


@dataclass
class Erasure:
    """What an erasure removed, table by table, and what it could not."""

    #: Rows deleted (or, for ``SET NULL`` pointers, emptied) per table.
    rows: Counter[str] = field(default_factory=Counter)
    #: Whether the person's row stays as an anonymous author of content kept for others.
    anonymised: bool = False
    #: Outbox statements removed that the organisation's LRS had already accepted.
    already_sent: int = 0

    def notice(self) -> str:
        """What the administrator must know about statements beyond the tool's reach."""
        if not self.already_sent:
            return "No statement about this person had been sent to an LRS."
        return (f"{self.already_sent} statement(s) about this person had already been sent to "
                "the organisation's LRS: the tool cannot recall them. Ask the LRS's "
                "administrator to erase them there.")  # fmt: skip


def erase(session: Session, who: DataSubject) -> Erasure:
    """Remove everything about ``who`` and commit once; nothing is removed if any step fails."""
    done = Erasure()
    try:
        _by_actor(session, who, done)
        _launch_storage(session, who, done)
        if who.person_id is not None:
            done.anonymised = _authored_for_others(session, who.person_id)
            _escalations(session, who.person_id, done)
            _rows_of(session, who.person_id, done)
            _person(session, who.person_id, done)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return done


def _by_actor(session: Session, who: DataSubject, done: Erasure) -> None:
    statements = _matching(session, Statement, who, Statement.body)
    _delete_ids(session, Statement.__table__, statements, done)
    outbox = (select(OutboxStatement.id, OutboxStatement.body, OutboxStatement.delivered_at)
              .where(OutboxStatement.registration_id == who.registration_id)
              .execution_options(yield_per=CHUNK))  # fmt: skip
    queued = [(row_id, sent is not None) for row_id, body, sent in session.execute(outbox)
              if who.in_statement(body)]  # fmt: skip
    done.already_sent = sum(1 for _row_id, sent in queued if sent)
    _delete_ids(session, OutboxStatement.__table__, [row_id for row_id, _sent in queued], done)
    unresolved = _matching(session, LearningEvent, who, LearningEvent.actor,
                           LearningEvent.person_id.is_(None), actor=True)  # fmt: skip
    _delete_ids(session, LearningEvent.__table__, unresolved, done)


def _matching(
    session: Session, model: Any, who: DataSubject, json: Any, *where: Any, actor: bool = False
) -> list[int]:
    """Ids of the registration's rows whose statement (or actor) names the person."""
    query = (select(model.id, json).where(model.registration_id == who.registration_id, *where)
             .execution_options(yield_per=CHUNK))  # fmt: skip
    test = who.named_by if actor else who.in_statement
    return [row_id for row_id, value in session.execute(query) if test(value)]


def _delete_ids(session: Session, table: Any, ids: list[int], done: Erasure) -> None:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(delete(table).where(table.c.id.in_(chunk)))
    done.rows[table.name] += len(ids)


def _launch_storage(session: Session, who: DataSubject, done: Erasure) -> None:
    """Launch state (short-lived, but it may hold the id_token's name and email)."""
    names = {who.subject, *([who.email] if who.email else [])}
    keys = [key for key, value in session.execute(select(StoredValue.key, StoredValue.value))
            if names & set(_strings(value))]  # fmt: skip
    if keys:
        session.execute(delete(StoredValue).where(StoredValue.key.in_(keys)))
    done.rows[StoredValue.__tablename__] += len(keys)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
        yield value.lower()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _authored_for_others(session: Session, person_id: int) -> bool:
    replies = exists().where(Post.author_id == person_id, Post.thread_id == Thread.id,
                             Thread.learner_id != person_id)  # fmt: skip
    terms = exists().where(MentoringAgreement.mentor_id == person_id)
    return bool(session.scalar(select(replies | terms)))


def _escalations(session: Session, person_id: int, done: Erasure) -> None:
    """Take the person out of the lists of people threads were escalated to."""
    for thread in session.scalars(select(Thread).where(Thread.escalated_at.is_not(None))):
        if person_id in thread.escalated_to:
            thread.escalated_to = [p for p in thread.escalated_to if p != person_id]
            done.rows[Thread.__tablename__] += 1
    session.flush()


def _rows_of(session: Session, person_id: int, done: Erasure) -> None:
    for table, column in person_columns():
        if table.name == Person.__tablename__:
            continue
        if done.anonymised and (table.name, column.name) in KEPT_FOR_OTHERS:
            continue
        (key,) = column.foreign_keys
        found: Any
        if key.ondelete == "SET NULL":
            found = update(table).where(column == person_id).values({column.name: None})
        else:
            found = delete(table).where(column == person_id)
        done.rows[table.name] += cast(CursorResult[Any], session.execute(found)).rowcount


def _person(session: Session, person_id: int, done: Erasure) -> None:
    people: Table = Person.__table__  # type: ignore[assignment]
    if not done.anonymised:
        session.execute(delete(people).where(people.c.id == person_id))
    else:
        cleared = {c.name: None for c in people.columns if c.nullable}
        session.execute(update(people).where(people.c.id == person_id)
                        .values({**cleared, "subject": f"erased:{uuid.uuid4()}"}))  # fmt: skip
    done.rows[people.name] += 1
    session.expire_all()
