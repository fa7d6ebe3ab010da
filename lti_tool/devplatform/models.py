"""The embedded platform's signing keys (the tool's own keys live in tool_keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool import clock
from lti_tool.database import Base, UTCDateTime


class DevPlatformKey(Base):
    """A key the embedded platform signs id_tokens with; the newest signs, all are published."""

    __tablename__ = "dev_platform_keys"

    #: Surrogate key; the highest signs.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: RFC 7638 thumbprint.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    #: The public JWK served at /dev-platform/jwks.
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The private key (PEM), encrypted like the tool's.
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: When it was made.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DevLineItem(Base):
    """A grade-book column of the embedded platform (AGS line item)."""

    __tablename__ = "dev_platform_line_items"

    #: Surrogate key (part of the line item's URL).
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The embedded platform's course id.
    context_id: Mapped[str] = mapped_column(String(255), index=True)
    #: The column's label.
    label: Mapped[str] = mapped_column(String(255))
    #: The maximum score.
    score_maximum: Mapped[float] = mapped_column()
    #: The tool's own id for what is graded, if it gave one.
    resource_id: Mapped[str | None] = mapped_column(String(255))
    #: The tool's tag, if it gave one.
    tag: Mapped[str | None] = mapped_column(String(255))


class DevScore(Base):
    """A score a tool posted to a line item (results are the latest score per user)."""

    __tablename__ = "dev_platform_scores"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The line item.
    line_item_id: Mapped[int] = mapped_column(index=True)
    #: The learner (platform user id).
    user_id: Mapped[str] = mapped_column(String(255))
    #: The score given, if any.
    score_given: Mapped[float | None] = mapped_column()
    #: The maximum for that score.
    score_maximum: Mapped[float | None] = mapped_column()
    #: AGS activityProgress.
    activity_progress: Mapped[str] = mapped_column(String(32))
    #: AGS gradingProgress.
    grading_progress: Mapped[str] = mapped_column(String(32))
    #: When the tool says the score was given.
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)


class DevDeepLink(Base):
    """A content item the tool returned in a deep-linking response."""

    __tablename__ = "dev_platform_deep_links"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The course it was added to.
    context_id: Mapped[str] = mapped_column(String(255), index=True)
    #: The content item, as the tool sent it.
    item: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: When it was received.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
