"""The xAPI outbox: statements about what learners do in the tool, written in the same
transaction as what they tell of, then delivered to the registration's LRS.

``emit`` adds the statement to the caller's transaction (it does not commit) and sends
``xapi.deliver_outbox`` once that transaction commits; a rollback takes both back. Emitting
the same happening again (the same statement id, see ``xapi.builders``) writes nothing new.

A registration with no LRS to send to keeps its statements: they wait, undelivered, until
an administrator adds one (``xapi add-lrs --send``), which sends the backlog in order.
Nothing is ever deleted; ``xapi outbox`` shows what waits, what failed and why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import current_app, has_request_context, request
from sqlalchemy import Table, case, func, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.database import insert_new
from lti_tool.jobs import enqueue_once_after_commit
from xapi.models import OutboxStatement
from xapi.tasks import deliver_outbox
from xapi.validation import SUPPORTED_VERSIONS, StatementError, validate_statement

__all__ = ["OutboxStatement", "Waiting", "emit", "failed", "tool_url", "waiting"]

_OUTBOX = cast(Table, OutboxStatement.__table__)


def emit(session: Session, registration_id: int, statement: dict[str, Any]) -> bool:
    """Add the statement to the outbox in the caller's transaction; whether it was new.

    The statement needs its id (``xapi.builders`` gives every statement a stable one) and
    must be valid xAPI under every version the tool speaks: a bad one raises
    ``StatementError`` here, in the caller, rather than waiting in the outbox for ever.
    """
    try:
        statement_id = str(uuid.UUID(str(statement.get("id"))))
    except ValueError:
        raise StatementError("id", "An emitted statement needs a UUID id of its own "
                             "(xapi.builders gives every statement one).") from None  # fmt: skip
    for version in SUPPORTED_VERSIONS:
        validate_statement(statement, version)
    now = clock.now()
    row = {
        "registration_id": registration_id, "statement_id": statement_id,
        "kind": _kind(statement), "body": statement, "created_at": now, "attempts": 0,
        "next_attempt_at": now,
    }  # fmt: skip
    enqueue_once_after_commit(deliver_outbox, registration_id)
    keys = ["registration_id", "statement_id"]
    return bool(insert_new(session, _OUTBOX, [row], keys=keys, returning="id"))


def tool_url() -> str:
    """The tool's public address, under which its statements name their activities:
    VM_XAPI_TOOL_URL, else the address the current request came in on."""
    configured = str(current_app.config["XAPI_TOOL_URL"]).strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    raise RuntimeError("Set VM_XAPI_TOOL_URL: statements built outside a request need the "
                       "tool's public address.")  # fmt: skip


def _kind(statement: dict[str, Any]) -> str:
    """What happened in a word: the verb's display, else the end of its IRI."""
    verb = statement["verb"]
    display = verb.get("display") or {}
    word = next(iter(display.values()), "") or verb["id"].rstrip("/").rsplit("/", 1)[-1]
    return str(word)[:64]


@dataclass(frozen=True)
class Waiting:
    """Where one registration's outbox stands, for the administrator."""

    registration_id: int
    pending: int
    failed: int
    delivered: int
    oldest_pending: datetime | None
    last_error: str | None


def waiting(session: Session) -> list[Waiting]:
    """Every registration's outbox: pending, failed for good, delivered, the latest error."""
    undelivered = OutboxStatement.delivered_at.is_(None)
    pending = undelivered & OutboxStatement.failed_at.is_(None)
    rows = session.execute(
        select(
            OutboxStatement.registration_id,
            func.count(case((pending, 1))),
            func.count(OutboxStatement.failed_at),
            func.count(OutboxStatement.delivered_at),
            func.min(case((pending, OutboxStatement.created_at))),
        )
        .group_by(OutboxStatement.registration_id)
        .order_by(OutboxStatement.registration_id)
    ).all()
    return [
        Waiting(registration_id=rid, pending=pending_count, failed=failed_count,
                delivered=delivered, oldest_pending=oldest,
                last_error=_last_error(session, rid))
        for rid, pending_count, failed_count, delivered, oldest in rows
    ]  # fmt: skip


def _last_error(session: Session, registration_id: int) -> str | None:
    """The error of the statement that failed most recently and is not delivered."""
    return session.scalar(
        select(OutboxStatement.last_error)
        .where(
            OutboxStatement.registration_id == registration_id,
            OutboxStatement.delivered_at.is_(None),
            OutboxStatement.last_error.is_not(None),
        )
        .order_by(OutboxStatement.id.desc())
        .limit(1)
    )


def failed(session: Session, limit: int = 20) -> list[OutboxStatement]:
    """The statements given up on (the LRS holds another under their id), newest first."""
    return list(
        session.scalars(
            select(OutboxStatement)
            .where(OutboxStatement.failed_at.is_not(None))
            .order_by(OutboxStatement.failed_at.desc())
            .limit(limit)
        )
    )
