"""What the xAPI side keeps: who may send statements, the LRSs statements are pulled from,
and the statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
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


class LrsSource(Timestamps, Base):
    """An organisation's LRS whose statements the tool reads, bound to one platform (tenant).

    The password is stored encrypted (``lti_tool.crypto``) and never shown back; the cursor
    says where the next poll starts; status, progress and the last failure (in words) say
    how the last poll went, as ``course_syncs`` do for a course.
    """

    __tablename__ = "xapi_lrs_sources"

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

    def __repr__(self) -> str:
        return f"<LrsSource {self.id} {self.name!r}: {self.status}>"
