"""Statement sources' credentials: created with the CLI, checked on every request.

A credential is a public key and a random secret, bound to one platform registration
(the tenant whose learners the source reports on). The secret is shown once and only
its SHA-256 is kept; checking it costs a hash and a constant-time comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.errors import AppError, NotFound
from lti_tool.lti.models import PlatformRegistration
from xapi.models import XapiCredential


class Unauthorized(AppError):
    """No, or wrong, credentials (HTTP Basic)."""

    status = 401
    title = "Unauthorized"


@dataclass(frozen=True)
class Caller:
    """Who is sending statements: the credential (none for an LRS the tool pulls from) and
    the tenant it writes for."""

    credential_id: int | None
    registration_id: int
    name: str
    #: The platform's issuer (its site), when the caller came with it.
    issuer: str | None = None


@dataclass(frozen=True)
class NewCredential:
    """A credential just made: the secret exists only here."""

    key: str
    secret: str
    credential: XapiCredential


# The tenant's issuer comes along: the normaliser needs it for every statement.
_BY_KEY = (
    select(
        XapiCredential.id, XapiCredential.registration_id, XapiCredential.name,
        XapiCredential.secret_sha256, XapiCredential.revoked_at, PlatformRegistration.issuer,
    )
    .join(PlatformRegistration, PlatformRegistration.id == XapiCredential.registration_id)
    .where(XapiCredential.key == bindparam("key"))
)  # fmt: skip


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(session: Session, registration_id: int, name: str) -> NewCredential:
    """A new credential for the registration's statement source."""
    if session.get(PlatformRegistration, registration_id) is None:
        raise NotFound(f"There is no platform registration #{registration_id}.")
    key, secret = f"vm_{secrets.token_hex(8)}", secrets.token_urlsafe(32)
    credential = XapiCredential(
        registration_id=registration_id, name=name.strip()[:255] or "xAPI source",
        key=key, secret_sha256=_digest(secret),
    )  # fmt: skip
    session.add(credential)
    session.commit()
    return NewCredential(key, secret, credential)


def revoke(session: Session, key: str) -> XapiCredential:
    """Refuse this credential from now on (its statements stay)."""
    credential = session.scalar(select(XapiCredential).where(XapiCredential.key == key))
    if credential is None:
        raise NotFound(f"There is no xAPI credential {key}.")
    if credential.revoked_at is None:
        credential.revoked_at = clock.now()
        session.commit()
    return credential


def authenticate(session: Session, authorization: str) -> Caller:
    """The caller of an ``Authorization: Basic …`` header, or Unauthorized."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("Send the statement source's key and secret with HTTP Basic auth.")
    try:
        key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("The Authorization header is not valid HTTP Basic.") from None
    row = session.execute(_BY_KEY, {"key": key}).first()
    # Compare even when the key is unknown, so timing does not tell keys apart.
    expected = row.secret_sha256 if row is not None else _digest(secrets.token_hex(16))
    if not hmac.compare_digest(expected, _digest(secret)) or row is None:
        raise Unauthorized("These xAPI credentials are not valid.")
    if row.revoked_at is not None:
        raise Unauthorized("These xAPI credentials have been revoked.")
    return Caller(row.id, row.registration_id, row.name, row.issuer)
