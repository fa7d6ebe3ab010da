"""Background jobs: send tasks only once the database transaction that needs them commits.

A task sent before its commit could run before its rows exist, or for rows a rollback
removed. If the broker is down at commit time the send is logged and dropped: every job's
state lives in the database, and a periodic sweep picks up whatever was not sent.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from lti_tool.extensions import db

log = logging.getLogger(__name__)
_PENDING = "vm_pending_tasks"
_ID_TYPES = (int, str, bool, type(None))


def enqueue_after_commit(task: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Send ``task(*args, **kwargs)`` when the current transaction commits; drop it on rollback.

    Tasks take ids, never model objects: the row is re-read in the worker.
    """
    for value in (*args, *kwargs.values()):
        if not isinstance(value, _ID_TYPES):
            raise TypeError(f"{task.name} must be sent ids, not {type(value).__name__}")
    session = db.session()
    if not session.in_transaction():
        # The task belongs to a transaction: begin it now (no I/O yet), so that a rollback
        # before any query still drops the task.
        session.begin()
    session.info.setdefault(_PENDING, []).append((task, args, kwargs))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for task, args, kwargs in session.info.pop(_PENDING, []):
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:
            log.exception(
                "Could not send %s to the broker; the periodic sweep will retry", task.name
            )


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_PENDING, None)
