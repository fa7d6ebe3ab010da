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
