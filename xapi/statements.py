"""Storing received statements: each once per tenant, a batch all or nothing, and each
new one turned into its learning event in the same transaction.

A statement sent again under the same id with the same content is accepted and stored
once; with different content it is a conflict (409) and nothing of its batch is stored.
"Same content" follows the xAPI statement comparison requirements: the properties the
LRS sets (id, stored, authority, version) and Activity definitions do not count, a
timestamp is compared as an instant, UUIDs without case, Group members in any order,
object members in any order, and a null member as an absent one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from lti_tool.database import insert_new
from lti_tool.errors import AppError, Conflict
from lti_tool.events import handoff
from lti_tool.events import services as events
from xapi import at_once
from xapi.credentials import Caller
from xapi.models import Statement
from xapi.normalise import drafts, learning_events, site_of
from xapi.times import timestamp

_STATEMENTS = cast(Table, Statement.__table__)
_LRS_SET = ("id", "stored", "authority", "version")
_HYPHENATED = 36  # characters in a UUID's 8-4-4-4-12 form
_HELD = select(_STATEMENTS.c.statement_id, _STATEMENTS.c.body).where(
    _STATEMENTS.c.registration_id == bindparam("registration_id"),
    _STATEMENTS.c.statement_id.in_(bindparam("ids", expanding=True)),
)


class Stored(NamedTuple):
    """What a store did."""

    ids: list[str]
    new: int


class DuplicateInBatch(AppError):
    """Two statements of one batch share an id."""

    status = 400
    title = "Bad request"


def same_statement(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two statements match by the comparison rules (see the module's docstring).

    Only needed when an id comes again, so the common path never pays for it.
    """

    def comparable(statement: dict[str, Any]) -> Any:
        return _comparable({k: v for k, v in statement.items() if k not in _LRS_SET})

    return bool(comparable(one) == comparable(other))


def _comparable(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        found = {k: _comparable(v, k) for k, v in value.items() if v is not None}
        if key in ("object", "parent", "grouping", "category", "other", "") or "id" in found:
            found.pop("definition", None)  # an Activity's definition is not the statement's
        if found.get("objectType") == "Group" and isinstance(found.get("member"), list):
            found["member"] = sorted(found["member"], key=lambda m: json.dumps(m, sort_keys=True))
        return found
    if isinstance(value, list):
        return [_comparable(item, key) for item in value]
    if isinstance(value, str):
        if key == "timestamp":
            return _instant(value)
        if key in ("id", "registration") and _is_uuid(value):
            return value.lower()
    return value


def _instant(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == _HYPHENATED


def store(
    session: Session,
    caller: Caller,
    statements: Sequence[dict[str, Any]],
    *,
    version: str,
    authority: dict[str, Any],
    now: datetime,
) -> Stored:
    """Store the batch (or nothing): the statement ids in the batch's order, and how many
    of them were new."""
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    for index, statement in enumerate(statements):
        statement_id = str(statement.get("id") or uuid.uuid4()).lower()
        if statement_id in ids:
            raise DuplicateInBatch(
                f"Statements {ids.index(statement_id)} and {index} of the batch share the id "
                f"{statement_id}; nothing was stored."
            )
        ids.append(statement_id)
        stored = {
            **statement, "id": statement_id, "stored": timestamp(now), "authority": authority,
            "version": statement.get("version") or _default(version),
        }  # fmt: skip
        rows.append({
            "registration_id": caller.registration_id, "statement_id": statement_id,
            "credential_id": caller.credential_id,
            "version": version, "body": stored, "stored": now,
        })  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        done = _store_at_once(session, caller, rows, now)
        session.commit()  # and, if that ran in autocommit, what follows runs in a transaction
        if done is not None:
            return Stored(ids, done)
    inserted = set(
        insert_new(
            session, _STATEMENTS, rows, keys=["registration_id", "statement_id"],
            returning="statement_id",
        )
    )  # fmt: skip
    fresh: list[dict[str, Any]] = [row["body"] for row in rows if row["statement_id"] in inserted]
    events.record(session, learning_events(session, caller.registration_id, fresh, caller.issuer))
    again = [row for row in rows if row["statement_id"] not in inserted]
    if again:
        held = dict(session.execute(_HELD, {
            "registration_id": caller.registration_id,
            "ids": [row["statement_id"] for row in again],
        }).all())  # fmt: skip
        for row in again:
            stored_before = held.get(row["statement_id"])
            if stored_before is None or not same_statement(stored_before, row["body"]):
                session.rollback()
                raise Conflict(
                    f"A different statement with the id {row['statement_id']} is already "
                    "stored; nothing of this request was stored."
                )
    session.commit()
    return Stored(ids, len(inserted))


def _store_at_once(
    session: Session, caller: Caller, rows: list[dict[str, Any]], now: datetime
) -> int | None:
    """How many statements one statement stored, if all were new (see ``xapi.at_once``)."""
    site = site_of(session, caller.registration_id, caller.issuer)
    found = drafts(caller.registration_id, [row["body"] for row in rows], site)
    done = at_once.store_new(session, session.connection(), rows, found, stored=now)
    if done is None:
        return None
    statements, recorded = done
    if recorded:
        handoff.wake_after_commit()
    return statements


def _default(version: str) -> str:
    return "2.0.0" if version.startswith("2.") else "1.0.0"
