"""Who may launch the tool: platform registrations, their deployments, and our keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.columns import BigId, Timestamps, enum_column
from lti_tool.database import Base, UTCDateTime


class RegistrationStatus(StrEnum):
    """Whether a platform (or one of its deployments) may launch the tool."""

    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"


class PlatformRegistration(Timestamps, Base):
    """One LMS client registered with the tool, keyed by (issuer, client_id).

    Canvas uses one issuer for every customer, so one issuer has many registrations.
    """

    __tablename__ = "platform_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The platform's issuer (``iss``), e.g. https://canvas.instructure.com.
    issuer: Mapped[str] = mapped_column(String(255))
    #: The OAuth client id the platform gave the tool.
    client_id: Mapped[str] = mapped_column(String(255))
    #: A name an administrator recognises, e.g. "ACME Moodle".
    name: Mapped[str] = mapped_column(String(200))
    #: The platform's OIDC authorisation endpoint (login redirects there).
    auth_login_url: Mapped[str] = mapped_column(Text)
    #: The platform's OAuth 2 token endpoint (for LTI Advantage services).
    auth_token_url: Mapped[str] = mapped_column(Text)
    #: The ``aud`` for token requests when the platform wants one other than the token URL.
    auth_audience: Mapped[str | None] = mapped_column(Text)
    #: Where the platform publishes its public keys (JWKS).
    key_set_url: Mapped[str] = mapped_column(Text)
    #: The LMS product (``moodle``, ``canvas``…) as the platform reports it, if known.
    product_family: Mapped[str | None] = mapped_column(String(64))
    #: Pending until a tool administrator approves it.
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_column(RegistrationStatus, "registration_status"), default=RegistrationStatus.PENDING
    )
    #: Whether a launch from a new deployment activates it without an administrator.
    auto_activate_deployments: Mapped[bool] = mapped_column(default=False)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<PlatformRegistration {self.id} {self.issuer} {self.client_id}>"


class Deployment(Timestamps, Base):
    """One placement of the tool within a platform (an LTI ``deployment_id``)."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The registration this deployment belongs to.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("platform_registrations.id", ondelete="CASCADE"), index=True
    )
    #: The platform's ``deployment_id`` claim.
    deployment_id: Mapped[str] = mapped_column(String(255))
    #: Pending when first seen on a launch, unless the registration auto-activates.
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_column(RegistrationStatus, "deployment_status"), default=RegistrationStatus.PENDING
    )

    registration: Mapped[PlatformRegistration] = relationship(back_populates="deployments")

    def __repr__(self) -> str:
        return (
            f"<Deployment {self.id} {self.deployment_id!r} of registration {self.registration_id}>"
        )


class ToolKeyState(StrEnum):
    """A key is published as next, then signs as current, then is retired."""

    NEXT = "next"
    CURRENT = "current"
    RETIRED = "retired"


class ToolKey(Timestamps, Base):
    """An RSA key pair the tool signs with; platforms read the public half from our JWKS."""

    __tablename__ = "tool_keys"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The key id: the RFC 7638 thumbprint of the public key.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    #: The public key as a JWK, as published at /lti/jwks.
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The private key (PEM), encrypted with the configured encryption key; never logged.
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: next (published, not yet signing), current (signing) or retired.
    state: Mapped[ToolKeyState] = mapped_column(
        enum_column(ToolKeyState, "tool_key_state"), default=ToolKeyState.NEXT
    )
    #: When the key started signing.
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the key stopped signing.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ToolKey {self.kid} {self.state}>"


class StoredValue(Base):
    """A short-lived value of the launch storage (the embedded default; Redis in production).

    Unlogged on PostgreSQL (migration 3f1c2a9d7b10): a crash may lose these values.
    """

    __tablename__ = "lti_storage"

    #: What the value is, e.g. ``state:<state>`` or ``jwks:<url>``.
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: The value, as JSON.
    value: Mapped[Any] = mapped_column(JSON)
    #: After this the value is gone (read as absent; purged periodically).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
