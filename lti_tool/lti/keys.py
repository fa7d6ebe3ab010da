"""The tool's signing keys: generated here, private halves encrypted, rotated publish-then-switch.

/lti/jwks always publishes the current key and the next one, so platforms have cached the
next key before the tool starts signing with it; a retired key stays published for a day
for tokens signed just before the switch.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.lti.models import ToolKey, ToolKeyState

RETIRED_KEY_GRACE = timedelta(days=1)


def new_rsa_key() -> tuple[bytes, dict[str, Any]]:
    """A fresh RSA-2048 key: (private PEM, public JWK with kid = RFC 7638 thumbprint)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    jwk = JWK.from_pem(pem)
    public = json.loads(jwk.export_public())
    public.update({"kid": jwk.thumbprint(), "alg": "RS256", "use": "sig"})
    return pem, public


def _create(session: Session, state: ToolKeyState) -> ToolKey:
    pem, public = new_rsa_key()
    key = ToolKey(
        kid=public["kid"],
        public_jwk=public,
        private_key_encrypted=crypto.encrypt(pem),
        state=state,
        activated_at=clock.now() if state is ToolKeyState.CURRENT else None,
    )
    session.add(key)
    session.flush()
    return key


def ensure_keys(session: Session) -> ToolKey:
    """Make sure a current and a next key exist; return the current one."""
    current = session.scalar(select(ToolKey).filter_by(state=ToolKeyState.CURRENT))
    if current is None:
        current = _create(session, ToolKeyState.CURRENT)
    if session.scalar(select(ToolKey).filter_by(state=ToolKeyState.NEXT)) is None:
        _create(session, ToolKeyState.NEXT)
    return current


def current_key(session: Session) -> ToolKey:
    """The key the tool signs with now (created on first use)."""
    key = session.scalar(select(ToolKey).filter_by(state=ToolKeyState.CURRENT))
    if key is None:
        key = ensure_keys(session)
        session.commit()
    return key


def published_keys(session: Session) -> list[dict[str, Any]]:
    """The public JWKs platforms may verify our signatures with."""
    grace_start = clock.now() - RETIRED_KEY_GRACE
    keys = session.scalars(
        select(ToolKey)
        .where(
            or_(
                ToolKey.state.in_([ToolKeyState.CURRENT, ToolKeyState.NEXT]),
                ToolKey.retired_at > grace_start,
            )
        )
        .order_by(ToolKey.id)
    ).all()
    return [dict(key.public_jwk) for key in keys]


def rotate(session: Session) -> ToolKey:
    """Start signing with the already-published next key and publish a new next key."""
    ensure_keys(session)
    current = session.scalar(
        select(ToolKey).filter_by(state=ToolKeyState.CURRENT).with_for_update()
    )
    upcoming = session.scalar(select(ToolKey).filter_by(state=ToolKeyState.NEXT).with_for_update())
    if current is None or upcoming is None:  # ensure_keys made both; another process raced
        raise RuntimeError("Key rotation found no current or next key; run it again.")
    now = clock.now()
    current.state, current.retired_at = ToolKeyState.RETIRED, now
    upcoming.state, upcoming.activated_at = ToolKeyState.CURRENT, now
    session.flush()
    _create(session, ToolKeyState.NEXT)
    session.commit()
    return upcoming


def private_pem(key: ToolKey) -> str:
    """The decrypted private key (PEM); never log it."""
    return crypto.decrypt(key.private_key_encrypted).decode()
