"""Recording learning events: each happening once, whichever source reports it again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.database import with_defaults
from lti_tool.events.models import LearningEvent

_EVENTS = cast(Table, LearningEvent.__table__)


def record(session: Session, events: Sequence[dict[str, Any]]) -> int:
    """Insert the events not recorded before (by idempotency key); returns how many were new.

    One statement for the whole batch; an event already recorded is skipped, not updated.
    """
    if not events:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [with_defaults(LearningEvent, event) for event in events]
    statement = (
        insert(_EVENTS)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .execution_options(preserve_rowcount=True)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
