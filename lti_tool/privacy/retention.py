"""How long raw statements are kept: statements as received older than
``VM_XAPI_RETENTION_DAYS`` are deleted (and the copy a learning event keeps of one is
emptied; the normalised event stays), and outbox statements the LRS accepted more than
``VM_XAPI_OUTBOX_RETENTION_DAYS`` ago are deleted. Undelivered outbox statements are never
purged. 0 keeps them for ever. Each batch is its own transaction, so a long purge never
holds locks for long and an interrupted one resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import String, cast, delete, select, update
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.events.models import LearningEvent
from xapi.models import OutboxStatement, Statement


@dataclass(frozen=True)
class Retention:
    """Days each kind of row is kept (0: for ever), and rows handled per transaction."""

    statement_days: int
    outbox_days: int
    batch: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Retention:
        """The settings VM_XAPI_RETENTION_DAYS and VM_XAPI_OUTBOX_RETENTION_DAYS."""
        return cls(int(config["XAPI_RETENTION_DAYS"]), int(config["XAPI_OUTBOX_RETENTION_DAYS"]))


@dataclass(frozen=True)
class Purged:
    """How many rows one purge removed or emptied."""

    statements: int = 0
    event_copies: int = 0
    outbox: int = 0


def purge(session: Session, retention: Retention) -> Purged:
    """Purge what is older than the retention allows, a batch per transaction."""
    statements = copies = sent = 0
    now = clock.now()
    if retention.statement_days > 0:
        before = now - timedelta(days=retention.statement_days)
        old = select(Statement.id).where(Statement.stored < before)
        statements = _in_batches(session, old, lambda ids: delete(Statement).where(
            Statement.id.in_(ids)), retention.batch)  # fmt: skip
        kept = select(LearningEvent.id).where(
            LearningEvent.recorded_at < before, cast(LearningEvent.raw, String) != "{}"
        )
        copies = _in_batches(session, kept, lambda ids: update(LearningEvent).where(
            LearningEvent.id.in_(ids)).values(raw={}), retention.batch)  # fmt: skip
    if retention.outbox_days > 0:
        before = now - timedelta(days=retention.outbox_days)
        old = select(OutboxStatement.id).where(OutboxStatement.delivered_at < before)
        sent = _in_batches(session, old, lambda ids: delete(OutboxStatement).where(
            OutboxStatement.id.in_(ids)), retention.batch)  # fmt: skip
    return Purged(statements, copies, sent)


def _in_batches(session: Session, ids: Any, change: Any, batch: int) -> int:
    done = 0
    while True:
        chosen = list(session.scalars(ids.order_by(None).limit(batch)))
        if not chosen:
            return done
        session.execute(change(chosen), execution_options={"synchronize_session": False})
        session.commit()
        done += len(chosen)
        if len(chosen) < batch:
            return done
