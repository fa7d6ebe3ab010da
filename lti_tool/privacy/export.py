"""Export: everything the tool holds about one person, as one JSON-ready document.

Sections are named after the tables they come from. Every table that points at the person
(``subjects.person_columns``) gives its rows; besides those come the rows that reach them
through another table (answers to their deliveries, every post of their threads), the
statements, unresolved events and outbox statements that name them, each delivered message
as they saw it, and the timeline of each of their courses.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

import lti_tool.models  # noqa: F401 (every table in the metadata)
from lti_tool import clock
from lti_tool.courses.models import Course, Enrollment, Person
from lti_tool.events.models import LearningEvent
from lti_tool.mentoring import feed
from lti_tool.mentoring.models import Delivery, DeliveryStatus, Response
from lti_tool.mentoring.timeline import timeline
from lti_tool.privacy.subjects import DataSubject, person_columns
from lti_tool.threads.models import Post, Thread
from xapi.models import OutboxStatement, Statement

#: The document's format; a change that removes or renames a field adds one.
FORMAT = "virtual-mentor-personal-data/1"


def export(session: Session, who: DataSubject) -> dict[str, Any]:
    """Everything about ``who``: their row, and a list of plain rows per section."""
    sections: dict[str, list[dict[str, Any]]] = defaultdict(list)
    person = session.get(Person, who.person_id) if who.person_id is not None else None
    if who.person_id is not None:
        _pointing_rows(session, who.person_id, sections)
        _reached_rows(session, who.person_id, sections)
    _by_actor(session, who, sections)
    document = {
        "format": FORMAT,
        "exported_at": clock.now().isoformat(),
        "registration_id": who.registration_id,
        "subject": who.subject,
        "person": _orm_row(person) if person else None,
        "sections": {name: sections[name] for name in sorted(sections)},
    }
    return document


def plain_row(table: Any, row: Any) -> dict[str, Any]:
    """A row's columns as JSON values (binary columns, which hold only secrets, left out)."""
    return {column.name: _plain(row[column.name]) for column in table.columns
            if column.name in row and not isinstance(row[column.name], bytes)}  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _pointing_rows(session: Session, person_id: int, sections: dict[str, list[Any]]) -> None:
    by_table: dict[Table, list[Any]] = defaultdict(list)
    for table, column in person_columns():
        if table.name not in _REACHED:
            by_table[table].append(column)
    for table, columns in by_table.items():
        query = select(table).where(or_(*(column == person_id for column in columns)))
        rows = session.execute(query.order_by(*table.primary_key.columns)).mappings()
        sections[table.name] = [plain_row(table, row) for row in rows]


#: The tables ``_reached_rows`` exports whole (what points at the person, and more).
_REACHED = {"mentoring_responses", "thread_posts"}


def _reached_rows(session: Session, person_id: int, sections: dict[str, list[Any]]) -> None:
    mine = select(Delivery.id).where(Delivery.person_id == person_id)
    answers = session.scalars(select(Response).where(Response.delivery_id.in_(mine)))
    sections["mentoring_responses"] = [_orm_row(row) for row in answers]
    threads = select(Thread.id).where(Thread.learner_id == person_id)
    posts = session.scalars(
        select(Post)
        .where(or_(Post.thread_id.in_(threads), Post.author_id == person_id))
        .order_by(Post.id)
    )
    sections["thread_posts"] = [_orm_row(post) for post in posts]  # fmt: skip
    delivered = session.scalars(mine.where(Delivery.status == DeliveryStatus.DELIVERED))
    seen = feed.items(session, delivered)
    sections["messages_as_seen"] = [
        {"delivery_id": item.delivery_id, "course_id": item.course_id, "kind": item.kind,
         "title": item.title, "text": item.text, "mentor": item.mentor_name, "topic": item.topic,
         "delivered_at": _plain(item.delivered_at), "choices": item.choices,
         "details": item.details, "answer": item.answer, "answer_text": item.answer_text,
         "answers": item.answers}
        for _, item in sorted(seen.items())
    ]  # fmt: skip
    courses = session.scalars(select(Course.id).join(Enrollment).where(
        Enrollment.person_id == person_id).order_by(Course.id))  # fmt: skip
    sections["timeline"] = [
        {"course_id": course_id, "at": _plain(entry.at), "what": entry.what,
         "status": entry.status, "reason": entry.reason, "delivery_id": entry.delivery_id}
        for course_id in courses for entry in timeline(session, course_id, person_id)
    ]  # fmt: skip


def _by_actor(session: Session, who: DataSubject, sections: dict[str, list[Any]]) -> None:
    for model, json, actor in ((Statement, Statement.body, False),
                               (OutboxStatement, OutboxStatement.body, False),
                               (LearningEvent, LearningEvent.actor, True)):  # fmt: skip
        query = select(model).where(model.registration_id == who.registration_id)
        if model is LearningEvent:  # resolved ones came with the person's rows
            query = query.where(LearningEvent.person_id.is_(None))
        test = who.named_by if actor else who.in_statement
        rows = session.scalars(query.order_by(model.id), execution_options={"yield_per": 500})
        found = [_orm_row(row) for row in rows if test(getattr(row, json.key))]
        sections[model.__tablename__] += found


def _orm_row(row: Any) -> dict[str, Any]:
    values = {attr.columns[0].name: getattr(row, attr.key) for attr in row.__mapper__.column_attrs}
    return plain_row(type(row).__table__, values)
