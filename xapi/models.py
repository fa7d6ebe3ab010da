"""What the xAPI side keeps: who may send statements, the organisations' LRSs (read from,
sent to, or both), the statements, and the outbox of statements on their way out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.courses.syncs import SyncStatus
from lti_tool.database import Base, UTCDateTime


class XapiCredential(Timestamps, Base):
    """HTTP Basic credentials of one statement source, bound to one platform (tenant).

    The secret is a random token shown once; only its SHA-256 is kept (a high-entropy
    token needs no slow password hash, and every request checks it).
    """

    __tablename__ = "xapi_credentials"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform registration whose learners this source reports on.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: What the source is, for people (e.g. "Moodle logstore").
    name: Mapped[str] = mapped_column(String(255))
    #: The Basic auth user name (public).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 (hex) of the secret.
    secret_sha256: Mapped[str] = mapped_column(String(64))
    #: When it was revoked; a revoked credential is refused.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<XapiCredential {self.key} {self.name!r}>"


class Statement(Base):
    """A statement as received (with the ``stored`` and ``authority`` we set)."""

    __tablename__ = "xapi_statements"
    __table_args__ = (UniqueConstraint("registration_id", "statement_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The tenant: statements of one platform never meet another's.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE")
    )
    #: The statement's own id (a UUID; assigned by us when the source sent none).
    statement_id: Mapped[str] = mapped_column(String(36))
    #: The credential it came through.
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("xapi_credentials.id", ondelete="SET NULL")
    )
    #: The xAPI version it was sent with.
    version: Mapped[str] = mapped_column(String(16))
    #: The statement, as stored.
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: When we stored it.
    stored: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<Statement {self.statement_id}>"


class LrsPurpose(StrEnum):
    """What the tool does with an LRS: read statements from it, send them to it, or both."""

    READ = "read"
    SEND = "send"
    BOTH = "both"


#: An LRS the tool sends to: at most one per registration that is not removed.
_SENDS = "purpose IN ('send', 'both') AND removed_at IS NULL"


class LrsSource(Timestamps, Base):
    """An organisation's LRS, bound to one platform (tenant): read from, sent to, or both.

    The password is stored encrypted (``lti_tool.crypto``) and never shown back; the cursor
    says where the next poll starts; status, progress and the last failure (in words) say
    how the last poll went, as ``course_syncs`` do for a course. The ``send_*`` columns say
    the same of delivering the registration's outbox to it.
    """

    __tablename__ = "xapi_lrs_sources"
    __table_args__ = (
        Index(
            "uq_xapi_lrs_sources_sender", "registration_id", unique=True,
            postgresql_where=text(_SENDS), sqlite_where=text(_SENDS),
        ),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform registration whose learners the LRS reports on.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: What the LRS is, for people (e.g. "ACME Learning Locker").
    name: Mapped[str] = mapped_column(String(255))
    #: The LRS's xAPI endpoint, without a trailing slash (``…/statements`` is below it).
    endpoint: Mapped[str] = mapped_column(String(2048))
    #: The HTTP Basic user name the LRS gave the tool.
    username: Mapped[str] = mapped_column(String(255))
    #: The HTTP Basic password, Fernet-encrypted with VM_SECRETS_KEY; emptied on removal.
    password_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: The xAPI version asked for (1.0.3 or 2.0.0).
    xapi_version: Mapped[str] = mapped_column(String(16))
    #: GET /statements filters, as the LRS's query parameters (verb, activity, agent, ...).
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The LRS's ``stored`` of the newest statement read (the next poll re-reads from a
    #: little before it); empty before the first page.
    cursor_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Ids of the statements read whose ``stored`` is exactly ``cursor_since``.
    cursor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: queued, running, done or failed.
    status: Mapped[SyncStatus] = mapped_column(
        enum_column(SyncStatus, "lrs_source_status"), default=SyncStatus.QUEUED
    )
    #: When the next poll is due (or, while backing off, when the retry is).
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the current or last poll started.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the last poll ended (done or failed).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a poll last read the LRS to its end.
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Pages read by the current or last poll.
    pages: Mapped[int] = mapped_column(default=0)
    #: Statements the LRS returned to the current or last poll.
    statements_read: Mapped[int] = mapped_column(default=0)
    #: Of those, statements the tool did not hold before.
    statements_new: Mapped[int] = mapped_column(default=0)
    #: Of those, statements not stored: not valid xAPI, or another statement's id.
    statements_skipped: Mapped[int] = mapped_column(default=0)
    #: Why the last poll failed (or is waiting to retry), in words for the administrator.
    error: Mapped[str | None] = mapped_column(Text)
    #: When an administrator removed it; a removed source is not polled (its statements stay).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: read (polled for statements), send (the registration's outbox goes to it) or both.
    purpose: Mapped[LrsPurpose] = mapped_column(
        enum_column(LrsPurpose, "lrs_purpose"), default=LrsPurpose.READ, server_default="read"
    )
    #: Deliveries that failed in a row (the backoff grows with them); 0 once one succeeds.
    send_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    #: While the LRS keeps failing, nothing is sent to it before this.
    send_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the last delivery failed, in words for the administrator; empty once one succeeds.
    send_error: Mapped[str | None] = mapped_column(Text)
    #: When statements last reached it.
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def reads(self) -> bool:
        """Whether the tool polls this LRS for statements."""
        return self.purpose != LrsPurpose.SEND

    @property
    def sends(self) -> bool:
        """Whether the registration's outbox is delivered to this LRS."""
        return self.purpose != LrsPurpose.READ

    def __repr__(self) -> str:
        return f"<LrsSource {self.id} {self.name!r}: {self.purpose}, {self.status}>"


#: Statements not delivered yet: the claim query and the administrator's counts read these.
_UNDELIVERED = "delivered_at IS NULL"


class OutboxStatement(Base):
    """A statement about something a learner did in the tool, on its way to the LRS.

    Written in the same transaction as the happening it tells of (``xapi.outbox.emit``), so
    one is never kept without the other. Delivered rows stay, marked; undelivered ones are
    retried with backoff for as long as it takes. The only rows given up on are those the
    LRS holds a different statement for under the same id (``failed_at``, with the reason).
    """

    __tablename__ = "xapi_outbox"
    __table_args__ = (
        UniqueConstraint("registration_id", "statement_id"),
        Index(
            "ix_xapi_outbox_undelivered", "registration_id", "id",
            postgresql_where=text(_UNDELIVERED), sqlite_where=text(_UNDELIVERED),
        ),
    )  # fmt: skip

    #: Surrogate key; its order is the order statements were written in (and are sent in).
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The tenant whose learner did it; its sending LRS receives the statement.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE")
    )
    #: The statement's id: a UUID derived from what happened, so it is the same every time.
    statement_id: Mapped[str] = mapped_column(String(36))
    #: What happened, in a word (asked, answered-check-in, …), for the administrator.
    kind: Mapped[str] = mapped_column(String(64))
    #: The statement, as sent.
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: When it was written.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Deliveries tried and failed.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not sent before this (backoff after a failure, or a delivery in progress).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the LRS accepted it.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was given up on: the LRS holds another statement under its id.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the last delivery failed, in words for the administrator.
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<OutboxStatement {self.statement_id} {self.kind}>"
