"""Platform key sets (JWKS): fetched with a timeout, cached with a TTL, re-fetched on a new kid.

Platforms rotate keys (some hourly): a token signed with a kid we have not seen makes us
fetch the key set again, at most once every REFETCH_SECONDS per URL, so forged kids cannot
turn us into a request amplifier.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests

from lti_tool import http_safety
from lti_tool.lti.errors import LaunchForbidden
from lti_tool.lti.storage import LaunchStorage

REFETCH_SECONDS = 10
#: Parsed keys this process has used: (url, kid) -> (key, expires at, monotonic seconds).
_parsed: dict[tuple[str, str], tuple[jwt.PyJWK, float]] = {}
_parsed_lock = threading.Lock()


def signing_key(
    store: LaunchStorage,
    url: str,
    kid: str | None,
    *,
    ttl: int,
    timeout: float,
    before_fetch: Callable[[], None] = lambda: None,
) -> jwt.PyJWK:
    """The platform's public key with ``kid``, from the cache or the platform.

    ``before_fetch`` runs just before a network fetch (to end the caller's transaction).
    """
    if not kid:
        raise LaunchForbidden("The launch token names no signing key (kid).")
    memo = _parsed.get((url, kid))
    if memo is not None and memo[1] > time.monotonic():
        return memo[0]
    before_fetch()
    key = _shared_signing_key(store, url, kid, ttl, timeout)
    with _parsed_lock:
        _parsed[(url, kid)] = (key, time.monotonic() + ttl)
    return key


def _shared_signing_key(
    store: LaunchStorage, url: str, kid: str, ttl: int, timeout: float
) -> jwt.PyJWK:
    """The key from the key set shared by every process, fetching it if needed."""
    cache_key = "jwks:" + hashlib.sha256(url.encode()).hexdigest()
    key_set = store.get(cache_key)
    if key_set is not None:
        if (key := _find(key_set, kid)) is not None:
            return key
        # A kid we have not seen: the platform may have rotated. Re-fetch, but not again
        # for a while, so a stream of forged kids costs the platform one request.
        cooldown_key = f"jwks-refetch:{cache_key}"
        if store.get(cooldown_key) is not None:
            raise LaunchForbidden(f"The platform has no signing key with kid {kid!r}.")
        store.put(cooldown_key, 1, REFETCH_SECONDS)
    key_set = fetch_key_set(url, timeout)
    store.put(cache_key, key_set, ttl)
    if (key := _find(key_set, kid)) is not None:
        return key
    raise LaunchForbidden(f"The platform has no signing key with kid {kid!r}.")


def fetch_key_set(url: str, timeout: float) -> dict[str, Any]:
    """GET the platform's JWKS (no redirects followed, only from an allowed address)."""
    try:
        with http_safety.session() as http:
            response = http.get(url, timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        key_set = response.json()
    except http_safety.AddressRefused as exc:
        raise LaunchForbidden(f"The platform's key set at {url} is refused: {exc}") from exc
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
