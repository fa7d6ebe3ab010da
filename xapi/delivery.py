"""Delivering the outbox: claim a registration's due statements, send them to its LRS as one
batch, and mark each delivered, waiting or given up on.

1. **Claim** (one statement, committed): the oldest due undelivered rows, at most
   ``VM_XAPI_OUTBOX_BATCH``, get ``next_attempt_at`` moved past the time one delivery can take
   (the lease). On PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, so two workers
   never take the same row; SQLite's ``BEGIN IMMEDIATE`` serialises the claims instead.
2. **Send** (no transaction open): ``POST {endpoint}/statements`` with the batch as one array.
   If the LRS refuses the batch (400, 409, another 4xx), each statement goes again on its own
   with ``PUT ?statementId=``, to find the one at fault and let the others through.
3. **Mark** (one transaction): accepted rows are delivered. A statement the LRS refuses is
   kept with the LRS's words and tried again later, backing off. A 409 means the LRS holds a
   different statement under that id: unless the LRS shows it holds this very statement, the
   row is given up on (``failed_at``), the one case the tool stops trying, with the reason for
   the administrator. When the LRS itself fails (unreachable, timeout, 429, 5xx, wrong
   credentials) the batch waits: the LRS's ``send_retry_at`` holds every statement back until
   then (30 s doubling with jitter up to an hour, or what Retry-After asks), so the backlog
   goes later in the order it was written.

A worker that dies after the LRS accepted a batch but before marking it leaves the rows
claimed; when the lease ends they are sent again under the same ids, which the LRS keeps once
(xAPI: a statement id is stored once; an LRS that answers 409 to a resend is asked for its
copy, and the same statement counts as delivered).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import requests
from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from xapi import lrs as lrs_client
from xapi.lrs import LrsBusy, LrsClient, LrsError, LrsRefused
from xapi.models import LrsPurpose, LrsSource, OutboxStatement
from xapi.sources import SourceError, check_endpoint
from xapi.statements import same_statement
from xapi.tasks import deliver_outbox

log = logging.getLogger(__name__)
_OUTBOX = cast(Table, OutboxStatement.__table__)
#: The share of a backoff taken off at random, so waiting workers do not return together.
JITTER = 0.5


@dataclass(frozen=True)
class DeliverySettings:
    """How the outbox is delivered (VM_XAPI_OUTBOX_* settings)."""

    batch: int
    first_retry: float
    last_retry: float
    timeout: float
    production: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        """The settings of an app's configuration."""
        return cls(
            batch=int(config["XAPI_OUTBOX_BATCH"]),
            first_retry=float(config["XAPI_OUTBOX_RETRY_MIN_SECONDS"]),
            last_retry=float(config["XAPI_OUTBOX_RETRY_MAX_SECONDS"]),
            timeout=float(config["XAPI_LRS_TIMEOUT_SECONDS"]),
            production=config["ENV"] == "production",
        )

    @property
    def lease(self) -> timedelta:
        """How long claimed rows are someone's: a POST, then a PUT and a GET per statement."""
        return timedelta(seconds=self.timeout * (2 * self.batch + 1) + 30)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before the next try after ``attempt`` + 1 failures."""
        return lrs_client.backoff(attempt, retry_after, first=self.first_retry,
                                  most=self.last_retry, jitter=JITTER)  # fmt: skip


@dataclass(frozen=True)
class Claimed:
    """A row taken for one delivery."""

    id: int
    statement_id: str
    body: dict[str, Any]
    attempts: int


@dataclass
class Outcome:
    """What became of a claimed batch."""

    delivered: list[int] = field(default_factory=list)
    #: Statements the LRS refused, with its words: kept, tried again later.
    refused: list[tuple[Claimed, str]] = field(default_factory=list)
    #: Statements the LRS holds another statement for under their id: given up on.
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    #: Statements not sent because the LRS failed, and how.
    unsent: list[Claimed] = field(default_factory=list)
    lrs_error: LrsError | None = None


def deliver(session: Session, registration_id: int, settings: DeliverySettings) -> int:
    """Send the registration's due statements to its LRS, batch by batch; how many arrived.

    Stops at the first batch the LRS fails on (its backoff then holds the rest back).
    """
    source = sending_lrs(session, registration_id)
    session.commit()  # no transaction is held across a call to the LRS
    if source is None or (source.send_retry_at is not None and source.send_retry_at > clock.now()):
        return 0
    try:
        client = _client(source, settings)
    except (SourceError, crypto.SecretsKeyError) as exc:
        _mark(session, source.id, Outcome(lrs_error=LrsError(str(exc))), settings)
        return 0
    delivered = 0
    with client.http() as http:
        while batch := claim(session, registration_id, settings):
            outcome = send(client, http, batch)
            _mark(session, source.id, outcome, settings)
            delivered += len(outcome.delivered)
            if outcome.lrs_error is not None or len(batch) < settings.batch:
                break
    return delivered


def sweep(session: Session, settings: DeliverySettings) -> list[int]:
    """Send ``xapi.deliver_outbox`` for each registration with statements due and an LRS
    ready to take them; their ids."""
    now = clock.now()
    due = session.scalars(
        select(OutboxStatement.registration_id)
        .distinct()
        .join(LrsSource, LrsSource.registration_id == OutboxStatement.registration_id)
        .where(
            *_sending(), or_(LrsSource.send_retry_at.is_(None), LrsSource.send_retry_at <= now),
            OutboxStatement.delivered_at.is_(None), OutboxStatement.failed_at.is_(None),
            OutboxStatement.next_attempt_at <= now,
        )
    ).all()  # fmt: skip
    session.commit()
    for registration_id in due:
        deliver_outbox.delay(registration_id)
    return list(due)


def sending_lrs(session: Session, registration_id: int) -> LrsSource | None:
    """The LRS the registration's statements go to, if it has one."""
    return session.scalars(
        select(LrsSource).where(LrsSource.registration_id == registration_id, *_sending())
    ).first()


def _sending() -> tuple[Any, ...]:
    return (LrsSource.purpose.in_([LrsPurpose.SEND, LrsPurpose.BOTH]),
            LrsSource.removed_at.is_(None))  # fmt: skip


def claim(session: Session, registration_id: int, settings: DeliverySettings) -> list[Claimed]:
    """Take the oldest due rows for one delivery (committed), oldest first."""
    now = clock.now()
    due = (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.registration_id == registration_id, _OUTBOX.c.delivered_at.is_(None),
            _OUTBOX.c.failed_at.is_(None), _OUTBOX.c.next_attempt_at <= now,
        )
        .order_by(_OUTBOX.c.id)
        .limit(settings.batch)
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    taken = session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + settings.lease)
        .returning(_OUTBOX.c.id, _OUTBOX.c.statement_id, _OUTBOX.c.body, _OUTBOX.c.attempts)
    ).all()
    session.commit()
    return sorted((Claimed(*row) for row in taken), key=lambda row: row.id)


def send(client: LrsClient, http: requests.Session, batch: Sequence[Claimed]) -> Outcome:
    """POST the batch; if the LRS refuses it, PUT each statement to find the one at fault."""
    try:
        client.send(http, [row.body for row in batch])
    except LrsRefused:
        return _one_by_one(client, http, batch)
    except LrsError as exc:
        return Outcome(unsent=list(batch), lrs_error=exc)
    return Outcome(delivered=[row.id for row in batch])


def _one_by_one(client: LrsClient, http: requests.Session, batch: Sequence[Claimed]) -> Outcome:
    outcome = Outcome()
    for index, row in enumerate(batch):
        try:
            client.put(http, row.body)
        except LrsRefused as refused:
            if refused.status != 409:
                outcome.refused.append((row, str(refused)))
            elif _holds(client, http, row):
                outcome.delivered.append(row.id)
            else:
                outcome.conflicts.append((row.id, f"{refused} The tool will not send it again."))
        except LrsError as exc:
            outcome.unsent, outcome.lrs_error = list(batch[index:]), exc
            break
        else:
            outcome.delivered.append(row.id)
    return outcome


def _holds(client: LrsClient, http: requests.Session, row: Claimed) -> bool:
    """Whether the LRS's statement under the row's id is this very statement (a resend)."""
    held = client.fetch(http, row.statement_id)
    return held is not None and same_statement(held, row.body)


def _client(source: LrsSource, settings: DeliverySettings) -> LrsClient:
    return LrsClient(
        endpoint=check_endpoint(source.endpoint, production=settings.production, resolve=False),
        username=source.username, password=crypto.decrypt(source.password_encrypted).decode(),
        version=source.xapi_version, timeout=settings.timeout,
    )  # fmt: skip


def _mark(session: Session, source_id: int, outcome: Outcome, settings: DeliverySettings) -> None:
    """Write what became of a batch, and of the LRS, in one transaction."""
    now = clock.now()
    if outcome.delivered:
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(outcome.delivered))
                        .values(delivered_at=now, last_error=None))  # fmt: skip
    for row, error in outcome.refused:
        wait = settings.backoff(row.attempts)
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id == row.id).values(
            attempts=row.attempts + 1, next_attempt_at=now + timedelta(seconds=wait),
            last_error=f"{error} Tried again in {wait:.0f} s."))  # fmt: skip
    for row_id, error in outcome.conflicts:
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id == row_id)
                        .values(failed_at=now, last_error=error))  # fmt: skip
    source = session.get(LrsSource, source_id, with_for_update=True, populate_existing=True)
    if source is not None and outcome.lrs_error is not None:
        _back_off(session, source, outcome, settings)
    elif source is not None:
        source.send_failures, source.send_retry_at, source.send_error = 0, None, None
        if outcome.delivered:
            source.last_sent_at = now
    session.commit()


def _back_off(
    session: Session, source: LrsSource, outcome: Outcome, settings: DeliverySettings
) -> None:
    """Hold every statement back from a failing LRS; the batch's rows say why."""
    error = outcome.lrs_error
    retry_after = error.retry_after if isinstance(error, LrsBusy) else None
    wait = settings.backoff(source.send_failures, retry_after)
    retry_at = clock.now() + timedelta(seconds=wait)
    words = f"{error} The tool tries again in {wait:.0f} s."
    log.warning("Delivering registration %s's statements to LRS #%s failed: %s",
                source.registration_id, source.id, words)  # fmt: skip
    source.send_failures += 1
    source.send_retry_at, source.send_error = retry_at, words
    ids = [row.id for row in outcome.unsent]
    if ids:
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(ids)).values(
            attempts=_OUTBOX.c.attempts + 1, next_attempt_at=retry_at,
            last_error=str(error)))  # fmt: skip
