"""Platform key sets (JWKS): fetched with a timeout, cached with a TTL, re-fetched on a new kid.

Platforms rotate keys (some hourly): a token signed with a kid we have not seen makes us
fetch the key set again, at most once every REFETCH_SECONDS per URL, so forged kids cannot
turn us into a request amplifier.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
import requests

from lti_tool.lti.errors import LaunchForbidden
from lti_tool.lti.storage import LaunchStorage

REFETCH_SECONDS = 10


def signing_key(
    store: LaunchStorage, url: str, kid: str | None, ttl: int, timeout: float
) -> jwt.PyJWK:
    """The platform's public key with ``kid``, from the cache or the platform."""
    if not kid:
        raise LaunchForbidden("The launch token names no signing key (kid).")
    cache_key = "jwks:" + hashlib.sha256(url.encode()).hexdigest()
    key_set = store.get(cache_key)
    if key_set is not None and (key := _find(key_set, kid)) is not None:
        return key
    refetch_key = f"jwks-refetch:{cache_key}"
    if key_set is None or store.get(refetch_key) is None:
        key_set = fetch_key_set(url, timeout)
        store.put(cache_key, key_set, ttl)
        store.put(refetch_key, 1, REFETCH_SECONDS)
        if (key := _find(key_set, kid)) is not None:
            return key
    raise LaunchForbidden(f"The platform has no signing key with kid {kid!r}.")


def fetch_key_set(url: str, timeout: float) -> dict[str, Any]:
    """GET the platform's JWKS (no redirects followed)."""
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        key_set = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise LaunchForbidden(
            f"The platform's key set could not be read from {url}: {type(exc).__name__}."
        ) from exc
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LaunchForbidden(f"The platform's key set at {url} is not a JWKS.")
    return key_set


def _find(key_set: dict[str, Any], kid: str) -> jwt.PyJWK | None:
    for candidate in key_set.get("keys", []):
        if isinstance(candidate, dict) and candidate.get("kid") == kid:
            try:
                return jwt.PyJWK(candidate)
            except jwt.PyJWTError:
                return None
    return None
