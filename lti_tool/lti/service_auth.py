"""Access tokens for LTI Advantage services (client credentials with a signed JWT, RFC 7523).

One token per (registration, scopes) until it is about to expire, shared by every process
through launch storage: one token request per expiry, not per call. pylti1p3's
ServiceConnector keeps tokens per connector instance and calls the platform without a
timeout, hence this module.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence

import jwt
import requests
from sqlalchemy.orm import Session

from lti_tool import http_safety
from lti_tool.lti.keys import current_key, private_pem
from lti_tool.lti.models import PlatformRegistration
from lti_tool.lti.storage import LaunchStorage

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Renew this long before the platform's expiry, so a token never dies mid-call.
EXPIRY_MARGIN = 60


class ServiceAuthError(Exception):
    """The platform would not give the tool an access token; the message says why."""


def access_token(
    session: Session,
    store: LaunchStorage,
    registration: PlatformRegistration,
    scopes: Sequence[str],
    *,
    timeout: float,
) -> str:
    """A bearer token for ``scopes`` at ``registration``'s platform (cached until expiry)."""
    wanted = " ".join(sorted(set(scopes)))
    cache_key = f"token:{registration.id}:" + hashlib.sha256(wanted.encode()).hexdigest()
    cached = store.get(cache_key)
    if cached is not None:
        return str(cached)
    assertion = _assertion(session, registration)
    session.commit()  # no transaction held across the call to the platform
    token, lifetime = _request_token(registration, assertion, wanted, timeout)
    if lifetime > EXPIRY_MARGIN:
        store.put(cache_key, token, lifetime - EXPIRY_MARGIN)
    return token


def _assertion(session: Session, registration: PlatformRegistration) -> str:
    key = current_key(session)
    now = int(time.time())
    claims = {
        "iss": registration.client_id, "sub": registration.client_id,
        # Canvas wants its own audience; everyone else the token endpoint itself.
        "aud": registration.auth_audience or registration.auth_token_url,
        "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()),
    }  # fmt: skip
    return jwt.encode(claims, private_pem(key), algorithm="RS256", headers={"kid": key.kid})


def _request_token(
    registration: PlatformRegistration, assertion: str, scopes: str, timeout: float
) -> tuple[str, int]:
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "scope": scopes}  # fmt: skip
    where = f"{registration.name}'s token endpoint ({registration.auth_token_url})"
    try:
        with http_safety.session() as http:
            response = http.post(
                registration.auth_token_url, data=form, timeout=timeout, allow_redirects=False
            )
    except http_safety.AddressRefused as exc:
        raise ServiceAuthError(f"{where} is refused: {exc}") from exc
    except requests.RequestException as exc:
        raise ServiceAuthError(f"{where} could not be reached: {type(exc).__name__}.") from exc
    if response.status_code != 200:
        raise ServiceAuthError(f"{where} refused the tool: {_reason(response)}.")
    try:
        body = response.json()
        token, lifetime = body["access_token"], int(body.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceAuthError(f"{where} answered without a usable access token.") from exc
    if not isinstance(token, str) or not token:
        raise ServiceAuthError(f"{where} answered without a usable access token.")
    return token, lifetime


def _reason(response: requests.Response) -> str:
    """HTTP status and the platform's own words, if it gave any."""
    meaning = {401: "credentials not accepted", 403: "not allowed", 429: "too many requests, "
               "try again later"}.get(response.status_code, "platform error")  # fmt: skip
    try:
        body = response.json()
        detail = body.get("error_description") or body.get("error") or ""
    except ValueError:
        detail = ""
    return f"HTTP {response.status_code} ({meaning}){': ' + str(detail)[:200] if detail else ''}"
