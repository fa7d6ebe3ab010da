"""Background jobs: send tasks only once the database transaction that needs them commits.

A task sent before its commit could run before its rows exist, or for rows a rollback
removed. If the broker is down at commit time the send is logged and dropped: every job's
state lives in the database, and a periodic sweep picks up whatever was not sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from celery import Task
from celery import current_app as celery_app
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
    _check_ids(task, (*args, *kwargs.values()))
    call_after_commit(task.name, lambda: task.apply_async(args=args, kwargs=kwargs))


def enqueue_once_after_commit(task: Task[Any, Any], *args: Any) -> None:
    """As ``enqueue_after_commit``, but a call already waiting on this transaction is not
    added again (many rows written in one transaction need their task sent once)."""
    _check_ids(task, args)
    call_after_commit(task.name, lambda: task.apply_async(args=args), once=(task.name, args))


def call_after_commit(
    name: str, send: Callable[[], object], *, once: Hashable | None = None
) -> None:
    """Call ``send()`` (which sends something to the broker) when the current transaction
    commits; forget it on rollback. ``name`` says what it sends, for the log; a send with
    the ``once`` of one already waiting on this transaction is not added again."""
    session = db.session()
    if not session.in_transaction():
        # The send belongs to a transaction: begin it now (no I/O yet), so that a rollback
        # before any query still drops it.
        session.begin()
    pending = session.info.setdefault(_PENDING, [])
    if once is None or all(waiting[2] != once for waiting in pending):
        pending.append((name, send, once))


def _check_ids(task: Task[Any, Any], values: tuple[Any, ...]) -> None:
    for value in values:
        if not isinstance(value, _ID_TYPES):
            raise TypeError(f"{task.name} must be sent ids, not {type(value).__name__}")


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for name, send, _once in session.info.pop(_PENDING, []):
        try:
            send()
        except Exception:
            log.exception("Could not send %s to the broker; the periodic sweep will retry", name)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_PENDING, None)


class Waker:
    """Sends ``task`` shortly after commits that need it, at most once per ``delay`` per
    process: the task is sent to start ``delay`` later, so commits before then ride on it
    (a stream of small commits does not send a task each). ``margin`` allows for the clocks
    of the sending and the running process. Whatever it wakes must also run on a schedule:
    a lost wake-up only delays.
    """

    def __init__(self, task: str, delay: float = 0.05, margin: float = 0.01) -> None:
        self.task, self.delay, self.margin = task, delay, margin
        self.starts_at = 0.0  # when this process's last wake-up will start (epoch seconds)
        self._lock = threading.Lock()

    def after_commit(self) -> None:
        """Have the task run soon after the current transaction commits."""
        call_after_commit(self.task, self._wake, once=self.task)

    def _wake(self) -> None:
        now = time.time()
        with self._lock:
            if now < self.starts_at - self.margin:
                return  # the wake-up already sent starts after this commit: it will see it
            self.starts_at = now + self.delay
        celery_app.send_task(self.task, countdown=self.delay)
