"""An LMS connection: the API of one platform's LMS, which the completion readers call."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime


class LmsKind(StrEnum):
    """Which LMS's API the connection speaks."""

    MOODLE = "moodle"  # web services (REST protocol), with a site token
    CANVAS = "canvas"  # REST API, with an API access token


class LmsConnection(Timestamps, Base):
    """How the tool reads one platform registration's LMS (its tenant) beyond LTI.

    The token is stored encrypted (``lti_tool.crypto``), never logged and never shown
    back; a removed connection keeps its row (and the events it brought) but not its token.
    """

    __tablename__ = "lms_connections"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform registration whose courses and learners the LMS reports on.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: moodle or canvas.
    kind: Mapped[LmsKind] = mapped_column(enum_column(LmsKind, "lms_kind"))
    #: What the LMS is, for people (e.g. "ACME Moodle").
    name: Mapped[str] = mapped_column(String(255))
    #: The LMS's site address without a trailing slash (Moodle's wwwroot, Canvas's domain).
    base_url: Mapped[str] = mapped_column(String(2048))
    #: The API token, Fernet-encrypted with VM_SECRETS_KEY; emptied on removal.
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: When an administrator removed it; a removed connection is not read.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<LmsConnection {self.id} {self.kind} {self.base_url}>"
