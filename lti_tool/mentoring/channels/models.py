"""Webhook endpoints (where a platform registration's mentor messages go as signed JSON) and
channel copies (each delivered message still to go, or gone, by a channel)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime


class WebhookEndpoint(Timestamps, Base):
    """A chat tool's (or any receiver's) webhook for one registration (its tenant).

    The signing secret is stored encrypted (``lti_tool.crypto``), shown once when the
    endpoint is added and never logged; a removed endpoint keeps its row but not its secret.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        # One webhook in use per registration: a message has one place to go.
        Index(
            "uq_webhook_endpoints_in_use", "registration_id", unique=True,
            postgresql_where=text("removed_at IS NULL"), sqlite_where=text("removed_at IS NULL"),
        ),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform registration whose learners' messages are posted to it.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: What it is, for people (e.g. "ACME Teams, #safety").
    name: Mapped[str] = mapped_column(String(255))
    #: The https address messages are posted to.
    url: Mapped[str] = mapped_column(String(2048))
    #: The HMAC signing secret, Fernet-encrypted with VM_SECRETS_KEY; emptied on removal.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: When an administrator removed it; a removed endpoint is not posted to.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        """Whether messages are posted to it."""
        return self.removed_at is None

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} registration {self.registration_id} {self.url}>"


class CopyStatus(StrEnum):
    """Where one channel copy of a delivered message stands."""

    WAITING = "waiting"  # to send (again) from ``next_attempt_at``
    SENT = "sent"
    FAILED = "failed"  # for good, or out of tries
    UNAVAILABLE = "unavailable"  # the channel does not reach this learner


class ChannelCopy(Base):
    """One delivered message to go out by one channel besides the panel (email, LMS
    message, webhook): the rows are the channel's queue, so a lost task, a dead worker or a
    broker that was down when the dispatcher committed delays a copy, never loses it."""

    __tablename__ = "mentoring_copies"
    __table_args__ = (
        UniqueConstraint("delivery_id", "channel"),
        # The sweep's queue: only what still waits, by when it is due.
        Index(
            "ix_mentoring_copies_due", "next_attempt_at",
            postgresql_where=text("status = 'waiting'"), sqlite_where=text("status = 'waiting'"),
        ),
    )  # fmt: skip

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The delivered message.
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_deliveries.id", ondelete="CASCADE")
    )
    #: The channel's name ("email", "lms", "webhook").
    channel: Mapped[str] = mapped_column(String(20))
    #: Waiting, sent, failed or unavailable.
    status: Mapped[CopyStatus] = mapped_column(
        enum_column(CopyStatus, "mentoring_copy_status"), default=CopyStatus.WAITING
    )
    #: Tries so far (a claim counts one).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When it may be claimed: due at once, then after a claim's lease or a retry's wait.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the channel took it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The channel's last words about it (why it waits, failed or cannot go).
    reason: Mapped[str] = mapped_column(Text, default="")
