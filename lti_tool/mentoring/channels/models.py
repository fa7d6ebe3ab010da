"""Webhook endpoints: where a platform registration's mentor messages go as signed JSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps
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
