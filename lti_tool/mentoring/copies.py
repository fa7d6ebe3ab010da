"""The queue of channel copies: each delivered message still to go out by email, LMS message
or webhook is a ``mentoring_copies`` row, written in the dispatcher's transaction.

A task only says "look at these rows now". The sender claims the rows it is given (one
statement, committed: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and only rows still waiting
and due), leasing them for ``VM_CHANNELS_LEASE_SECONDS``; marks each copy the moment the
channel answers for it (so a worker killed half-way through a batch sends the rest later,
not the whole batch again); and moves the ones to try again to the retry policy's time.
Beat's sweep (``VM_CHANNELS_SWEEP_SECONDS``) sends a task for whatever is due: copies whose
task was lost (a broker down at commit, a worker killed), whose lease ran out or whose wait
is over. A copy is sent at least once and, unless a worker dies between the other side's
"accepted" and the mark (milliseconds), once; the channels' ``Message-ID`` and
``Idempotency-Key`` name the delivery, so even then the receiver can tell.

The same claim, mark and lease serve any table of that shape (``RowQueue``): the emails
about question threads (``lti_tool.threads.notify``) are queued and sent the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.mentoring.channels.base import Channel, Outcome, Outgoing, RetryPolicy, SendResult
from lti_tool.mentoring.channels.models import ChannelCopy, CopyStatus

log = logging.getLogger(__name__)
SWEEP = "mentoring.send_due_copies"
_COPIES = cast(Table, ChannelCopy.__table__)
_DONE = {
    Outcome.SENT: CopyStatus.SENT,
    Outcome.FAILED: CopyStatus.FAILED,
    Outcome.UNAVAILABLE: CopyStatus.UNAVAILABLE,
}


def add(session: Session, copies: Mapping[str, Iterable[int]], now: datetime) -> None:
    """Queue these deliveries' copies, per channel, in the current transaction (a copy
    queued already stays as it is)."""
    rows = [
        {"delivery_id": delivery, "channel": channel, "status": CopyStatus.WAITING,
         "attempts": 0, "next_attempt_at": now, "reason": ""}
        for channel, deliveries in copies.items() for delivery in deliveries
    ]  # fmt: skip
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(_COPIES).on_conflict_do_nothing(index_elements=["delivery_id", "channel"]),
        rows,
    )


@dataclass(frozen=True)
class RowQueue:
    """A table whose rows are things to send (``status``, ``attempts``, ``next_attempt_at``,
    ``sent_at``, ``reason``): the rows a sender is given are named by ``key``, within
    ``scope``; ``what`` names one in the log ("the email copy of delivery")."""

    table: Table
    key: str
    what: str
    scope: tuple[ColumnElement[bool], ...] = ()

    def named(self, keys: Iterable[int]) -> tuple[ColumnElement[bool], ...]:
        """These rows, still waiting."""
        column = self.table.c[self.key]
        return (*self.scope, column.in_(set(keys)), self.table.c.status == CopyStatus.WAITING)


def channel(name: str) -> RowQueue:
    """The copies to go by one channel, named by delivery."""
    return RowQueue(_COPIES, "delivery_id", f"the {name} copy of delivery",
                    (_COPIES.c.channel == name,))  # fmt: skip


def claim(session: Session, queue: RowQueue, keys: Iterable[int], lease: float) -> dict[int, int]:
    """Take these rows that wait and are due (committed); key -> the try this is."""
    now, table = clock.now(), queue.table
    due = (
        select(table.c.id)
        .where(*queue.named(keys), table.c.next_attempt_at <= now)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + timedelta(seconds=lease), attempts=table.c.attempts + 1)
        .returning(table.c[queue.key], table.c.attempts)
    ).all()
    session.commit()
    return {int(key): int(attempts) for key, attempts in taken}


def mark(
    session: Session, queue: RowQueue, key: int, result: SendResult, wait: float | None
) -> None:
    """Record the other side's answer for one row at once (committed): done (sent, failed,
    unavailable), or waiting ``wait`` seconds, or failed when there is no next try."""
    now = clock.now()
    values: dict[str, Any] = {"reason": result.reason}
    if result.outcome == Outcome.RETRY and wait is not None:
        values["next_attempt_at"] = now + timedelta(seconds=wait)
    else:
        values["status"] = _DONE.get(result.outcome, CopyStatus.FAILED)
        if result.outcome == Outcome.SENT:
            values["sent_at"] = now
    session.execute(update(queue.table).where(*queue.named([key])).values(**values))
    session.commit()


def renew(session: Session, queue: RowQueue, keys: Iterable[int], lease: float) -> None:
    """Extend the lease of claimed rows still being sent (committed)."""
    session.execute(
        update(queue.table)
        .where(*queue.named(keys))
        .values(next_attempt_at=clock.now() + timedelta(seconds=lease))
    )
    session.commit()


def due_keys(session: Session, queue: RowQueue, limit: int) -> list[int]:
    """The rows of a queue that wait and are due, oldest first (committed)."""
    table = queue.table
    keys = session.scalars(
        select(table.c[queue.key])
        .where(*queue.scope, table.c.status == CopyStatus.WAITING,
               table.c.next_attempt_at <= clock.now())
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    ).all()  # fmt: skip
    session.commit()
    return [int(key) for key in keys]


def due(session: Session, limit: int) -> dict[str, list[int]]:
    """Per channel, the deliveries whose copies wait and are due, oldest first (committed)."""
    rows = session.execute(
        select(_COPIES.c.channel, _COPIES.c.delivery_id)
        .where(_COPIES.c.status == CopyStatus.WAITING, _COPIES.c.next_attempt_at <= clock.now())
        .order_by(_COPIES.c.next_attempt_at, _COPIES.c.id)
        .limit(limit)
    ).all()
    session.commit()
    found: dict[str, list[int]] = {}
    for channel, delivery in rows:
        found.setdefault(channel, []).append(int(delivery))
    return found


class Marker:
    """Records each row's outcome the moment the other side answers for it, and keeps the
    lease of the rows still to go from running out under a long batch. ``key`` names an
    outgoing message's row (its delivery, by default)."""

    def __init__(
        self, session: Session, queue: RowQueue, tries: dict[int, int], policy: RetryPolicy,
        lease: float, *, key: Callable[[Outgoing], int] = attrgetter("delivery_id"),
    ) -> None:  # fmt: skip
        self.session, self.queue, self.tries, self.policy = session, queue, tries, policy
        self.lease, self.renewed, self.key = lease, time.monotonic(), key
        self.left = set(tries)
        #: Key -> seconds before its next try, for the rows to try again.
        self.waits: dict[int, float] = {}

    def send(self, channel: Channel, outgoings: Sequence[Outgoing]) -> list[SendResult]:
        """Hand ``outgoings`` to the channel, recording each answer as it comes (after the
        batch, for a channel that does not report as it goes); log what failed for good;
        the channel's answers."""
        results = channel.send_many(outgoings, done=self)
        for outgoing, result in zip(outgoings, results, strict=True):
            if self.key(outgoing) in self.left:
                self(outgoing, result)
            if result.outcome == Outcome.FAILED:
                log.warning("Sending %s %s failed for good: %s", self.queue.what,
                            self.key(outgoing), result.reason)  # fmt: skip
        return results

    def __call__(self, outgoing: Outgoing, result: SendResult) -> None:
        key = self.key(outgoing)
        wait = self.policy.next_wait(self.tries.get(key, 1), result)
        self._mark(key, result, wait)
        self.left.discard(key)
        if wait is not None:
            self.waits[key] = wait
        elif result.outcome == Outcome.RETRY:
            log.warning("Gave up sending %s %s after %d attempts: %s", self.queue.what, key,
                        self.tries.get(key, 1), result.reason)  # fmt: skip
        if self.left and time.monotonic() - self.renewed > self.lease / 3:
            renew(self.session, self.queue, self.left, self.lease)
            self.renewed = time.monotonic()

    def _mark(self, key: int, result: SendResult, wait: float | None) -> None:
        """Record one answer, waiting out a database that is restarting (up to the lease, or
        a minute): a copy the other side took but the tool did not record would be sent
        again. No other sender can take the batch while the database is away, and the lease
        is renewed as soon as it is back. Past that, the batch stops (raises); the copies not
        sent yet go later."""
        deadline, pause = time.monotonic() + max(self.lease, 60.0), 0.1
        while True:
            try:
                mark(self.session, self.queue, key, result, wait)
                return
            except (OperationalError, InterfaceError):
                self.session.rollback()
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("The database is not available to record %s %s; trying "
                            "again in %.1f s", self.queue.what, key, pause)  # fmt: skip
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
