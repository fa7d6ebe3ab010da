"""Pulling statements from an LRS source: claim the source, read it page by page, keep each
page, then the cursor, and say in words how the poll went.

A page's statements are committed first (``statements.store``: each (tenant, id) once, the
same content again accepted, new ones becoming learning events), then the cursor and the
progress. A worker killed between the two re-reads that page on the next poll, and the
statements it already kept are absorbed: nothing is lost or counted twice.

The cursor is the LRS's ``stored`` of the newest statement read (never past the LRS's
``X-Experience-API-Consistent-Through``, never backwards) and the ids read at that
instant. Each poll asks from ``VM_XAPI_LRS_OVERLAP_SECONDS`` before it, because ``since``
is exclusive and some LRSs filter it by ``timestamp`` or store out of order.

Statements we keep get our own ``stored`` and ``authority`` (the LRS source): xAPI Data
2.4.8 says whoever stores a statement MUST overwrite ``stored``, and 2.4.9 that it SHOULD
vouch for it with the credentials it came through. The LRS's ``stored`` moves the cursor
only; the statement's id is the LRS's, so the original is found there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.courses.syncs import SyncStatus
from lti_tool.errors import Conflict
from lti_tool.events.services import origin
from lti_tool.jobs import enqueue_after_commit
from xapi import lrs
from xapi import statements as stored_statements
from xapi.credentials import Caller
from xapi.lrs import LrsBusy, LrsClient, LrsError, Page
from xapi.models import LrsPurpose, LrsSource, Statement
from xapi.sources import SourceError, check_endpoint
from xapi.tasks import pull_lrs
from xapi.times import parse_instant
from xapi.validation import StatementError, validate_statement

log = logging.getLogger(__name__)
#: A queued poll whose task never arrived is sent again.
STALE_QUEUED = timedelta(minutes=10)
#: A running poll whose row has not moved for this long lost its worker (every page moves it).
STALE_RUNNING = timedelta(minutes=10)
#: The longest wait before retrying a busy LRS, whatever its Retry-After says.
MAX_BACKOFF_SECONDS = 600.0
#: Ids kept with the cursor (statements stored at one instant beyond this are re-read).
MAX_CURSOR_IDS = 1000
#: A statement's properties (xAPI Data 2.4); others an LRS adds are kept but not checked.
STATEMENT_PROPERTIES = ("id", "actor", "verb", "object", "result", "context", "timestamp",
                        "stored", "authority", "version", "attachments")  # fmt: skip
_STATEMENTS = cast(Table, Statement.__table__)


@dataclass(frozen=True)
class PullSettings:
    """How polls run (VM_XAPI_LRS_* settings)."""

    poll: timedelta
    overlap: timedelta
    page_size: int
    timeout: float
    production: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PullSettings:
        """The settings of an app's configuration."""
        return cls(
            poll=timedelta(seconds=config["XAPI_LRS_POLL_SECONDS"]),
            overlap=timedelta(seconds=config["XAPI_LRS_OVERLAP_SECONDS"]),
            page_size=int(config["XAPI_LRS_PAGE_SIZE"]),
            timeout=float(config["XAPI_LRS_TIMEOUT_SECONDS"]),
            production=config["ENV"] == "production",
        )


def run(
    session: Session, source_id: int, settings: PullSettings, *, attempt: int = 0,
    may_retry: bool = False,
) -> float | None:  # fmt: skip
    """Poll the source once; the seconds to wait before retrying if the LRS was busy.

    A failure is kept on the source in words; the pages already read stay.
    """
    source = _claim(session, source_id)
    if source is None:
        return None
    try:
        _read(session, source, settings)
    except LrsBusy as busy:
        session.rollback()
        if may_retry:
            wait = backoff(busy.retry_after, attempt)
            _finish(session, source_id, SyncStatus.QUEUED, clock.now() + timedelta(seconds=wait),
                    f"{busy} The tool tries again in {wait:.0f} s.")  # fmt: skip
            return wait
        _fail(session, source_id, settings, f"{busy} The tool gave up until the next poll.")
    except (LrsError, SourceError, crypto.SecretsKeyError) as exc:
        session.rollback()
        _fail(session, source_id, settings, str(exc))
    else:
        _finish(session, source_id, SyncStatus.DONE, clock.now() + settings.poll, None)
    return None


def backoff(retry_after: float | None, attempt: int) -> float:
    """Seconds before retrying: what the LRS asked, else 30 s doubling; never over 10 min."""
    return lrs.backoff(attempt, retry_after, first=30.0, most=MAX_BACKOFF_SECONDS)


def queue_due(session: Session) -> list[int]:
    """Queue the sources due a poll, and those whose task was lost or whose worker died."""
    now = clock.now()
    due = session.scalars(
        select(LrsSource).where(
            LrsSource.removed_at.is_(None),
            LrsSource.purpose != LrsPurpose.SEND,
            or_(
                and_(LrsSource.status.in_([SyncStatus.DONE, SyncStatus.FAILED]),
                     LrsSource.next_poll_at <= now),
                and_(LrsSource.status == SyncStatus.QUEUED,
                     LrsSource.next_poll_at < now - STALE_QUEUED),
                and_(LrsSource.status == SyncStatus.RUNNING,
                     LrsSource.updated_at < now - STALE_RUNNING),
            ),
        )
    ).all()  # fmt: skip
    for source in due:
        source.status, source.next_poll_at = SyncStatus.QUEUED, now
        enqueue_after_commit(pull_lrs, source.id)
    session.commit()
    return [source.id for source in due]


def _read(session: Session, source: LrsSource, settings: PullSettings) -> None:
    check_endpoint(source.endpoint, production=settings.production, resolve=False)
    client = LrsClient(
        endpoint=source.endpoint, username=source.username,
        password=crypto.decrypt(source.password_encrypted).decode(),
        version=source.xapi_version, timeout=settings.timeout,
    )  # fmt: skip
    since = source.cursor_since - settings.overlap if source.cursor_since else None
    url = client.statements_url(since, settings.page_size, source.filters)
    session.commit()  # no transaction is held across a call to the LRS
    for page in client.pages(url):
        keep_page(session, source, page)


def keep_page(session: Session, source: LrsSource, page: Page) -> None:
    """Store the page's statements (committed), then its progress and the cursor."""
    batch, skipped = accepted(page.statements, source.xapi_version, set(source.cursor_ids))
    new, conflicts = _store(session, source, batch)
    source.pages += 1
    source.statements_read += len(page.statements)
    source.statements_new += new
    source.statements_skipped += skipped + conflicts
    _advance(source, page)
    session.commit()


def accepted(
    statements: Sequence[Any], version: str, known: set[str]
) -> tuple[list[dict[str, Any]], int]:
    """The statements to store (valid, with an id, each once, not at the cursor already) and
    how many were skipped as not valid xAPI."""
    batch: list[dict[str, Any]] = []
    seen = set(known)
    skipped = 0
    for index, statement in enumerate(statements):
        statement_id = str(statement.get("id") or "").lower() if isinstance(statement, dict) else ""
        if statement_id in seen:
            continue
        try:
            if not statement_id:
                raise StatementError(f"statements[{index}].id", "A stored statement has an id.")
            checked = {k: v for k, v in statement.items() if k in STATEMENT_PROPERTIES}
            validate_statement(checked, version, path=f"statements[{index}]")
        except StatementError as exc:
            skipped += 1
            log.warning("Skipped a statement the LRS returned: %s", exc)
            continue
        seen.add(statement_id)
        batch.append(statement)
    return batch, skipped


def _store(session: Session, source: LrsSource, batch: list[dict[str, Any]]) -> tuple[int, int]:
    """Store the batch; (statements new to the tool, statements refused as conflicts)."""
    if not batch:
        return 0, 0
    caller = Caller(None, source.registration_id, source.name)
    authority = {"objectType": "Agent", "name": source.name[:255],
                 "account": {"homePage": origin(source.endpoint),
                             "name": f"lrs-source-{source.id}"}}  # fmt: skip
    now = clock.now()

    def keep(items: list[dict[str, Any]]) -> int:
        return stored_statements.store(session, caller, items, version=source.xapi_version,
                                       authority=authority, now=now).new  # fmt: skip

    try:
        return keep(batch), 0
    except Conflict:
        # One statement differs from one already held under its id: keep the rest, one by one.
        new = conflicts = 0
        for statement in batch:
            try:
                new += keep([statement])
            except Conflict as exc:
                conflicts += 1
                log.warning("LRS source %s: %s", source.id, exc.message)
        return new, conflicts


def _advance(source: LrsSource, page: Page) -> None:
    """Move the cursor to the newest ``stored`` of the page (never back, never past the
    LRS's consistent-through)."""
    read = [(parse_instant(s.get("stored")), str(s.get("id") or "").lower())
            for s in page.statements if isinstance(s, dict)]  # fmt: skip
    times = [(moment, statement_id) for moment, statement_id in read if moment is not None]
    if not times:
        return
    newest = max(moment for moment, _ in times)
    if page.consistent_through is not None:
        newest = min(newest, page.consistent_through)
    current = source.cursor_since
    if current is not None and newest < current:
        return
    at = {statement_id for moment, statement_id in times if moment == newest}
    if current is not None and newest == current:
        at |= set(source.cursor_ids)
    source.cursor_since, source.cursor_ids = newest, sorted(at)[:MAX_CURSOR_IDS]


def _claim(session: Session, source_id: int) -> LrsSource | None:
    """Mark the source running unless another worker is running it (atomic)."""
    now = clock.now()
    claimed = session.execute(
        update(LrsSource)
        .where(
            LrsSource.id == source_id,
            LrsSource.removed_at.is_(None),
            LrsSource.purpose != LrsPurpose.SEND,
            or_(LrsSource.status != SyncStatus.RUNNING,
                LrsSource.updated_at < now - STALE_RUNNING),
        )
        .values(status=SyncStatus.RUNNING, started_at=now, pages=0, statements_read=0,
                statements_new=0, statements_skipped=0, error=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.commit()
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    session.expire_all()
    return session.get(LrsSource, source_id)


def _fail(session: Session, source_id: int, settings: PullSettings, error: str) -> None:
    log.warning("Polling LRS source %s failed: %s", source_id, error)
    _finish(session, source_id, SyncStatus.FAILED, clock.now() + settings.poll, error)


def _finish(
    session: Session, source_id: int, status: SyncStatus, next_poll: datetime, error: str | None
) -> None:
    now = clock.now()
    values: dict[str, Any] = {"status": status, "next_poll_at": next_poll, "error": error,
                              "updated_at": now}  # fmt: skip
    if status != SyncStatus.QUEUED:
        values["finished_at"] = now
    if status == SyncStatus.DONE:
        values["last_polled_at"] = now
    session.execute(
        update(LrsSource)
        .where(LrsSource.id == source_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.expire_all()
