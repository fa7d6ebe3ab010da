"""What the statement endpoint keeps: who may send statements, and the statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps
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
