"""Rate limits: how often one client address, learner or statement source may call an endpoint.

Each limit is a setting (``[rate_limits]``, e.g. ``launch = "120/minute"``) counted in fixed
windows per caller. The counts live in Redis when VM_RATE_LIMITS_STORAGE_URL (or, failing it,
VM_LTI_STORAGE_URL) names one, so every web process and host shares them; otherwise in this
process's memory, which suits the embedded default's single process. A caller over its limit
gets a 429 with Retry-After and a sentence saying when to try again, and nothing it sent is
acted on. If Redis cannot be reached the request is let through (and logged): a limit guards
the tool, it must not take it down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from lti_tool.errors import AppError
from lti_tool.i18n import lazy_gettext, ngettext

log = logging.getLogger(__name__)

#: What each limit counts, as the refusal says it (the wait follows).
LIMITS: Mapping[str, Any] = {
    "login": lazy_gettext("Too many logins have started from your network in a short time."),
    "launch": lazy_gettext("Too many launches have come from your network in a short time."),
    "questions": lazy_gettext("You have sent your mentor many questions in a short time."),
    "replies": lazy_gettext("You have sent many replies in a short time."),
    "statements": lazy_gettext("This statement source has sent too many requests."),
}
KEY_PREFIX = "vm-rate-limits"


class TooManyRequests(AppError):
    """The caller went over a rate limit; it may try again after ``retry_after`` seconds."""

    status = 429
    title = lazy_gettext("Too many requests")

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """Retry-After, in seconds."""
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class RateLimits:
    """An app's limits by name (None: unlimited) and the counter they are checked against."""

    counter: FixedWindowRateLimiter
    limits: Mapping[str, RateLimitItem | None]


def storage_url(config: Mapping[str, Any]) -> str:
    """Where the counts live: the setting, else the launch storage's Redis, else memory."""
    return str(config["RATE_LIMITS_STORAGE_URL"] or config["LTI_STORAGE_URL"] or "memory://")


def _parse(text: str) -> RateLimitItem | None:
    return parse(text) if text.strip() else None


def build(config: Mapping[str, Any]) -> RateLimits:
    """The limits the settings name, counted where the settings say."""
    timeout = config["LTI_HTTP_TIMEOUT_SECONDS"]  # memory ignores the Redis options
    storage = storage_from_string(
        storage_url(config), key_prefix=KEY_PREFIX, wrap_exceptions=True,
        socket_timeout=timeout, socket_connect_timeout=timeout,
    )  # fmt: skip
    limits = {name: _parse(config[f"RATE_LIMITS_{name.upper()}"]) for name in LIMITS}
    return RateLimits(FixedWindowRateLimiter(storage), limits)


def init_rate_limits(app: Flask) -> None:
    """Give the app its limits and their storage (each app has its own)."""
    app.extensions["rate_limits"] = build(app.config)


def check(name: str, caller: str) -> None:
    """Count one request of ``caller`` against limit ``name``; TooManyRequests when over it."""
    rate_limits: RateLimits = current_app.extensions["rate_limits"]
    limit = rate_limits.limits[name]
    if limit is None:
        return
    try:
        if rate_limits.counter.hit(limit, name, caller):
            return
        reset_at = rate_limits.counter.get_window_stats(limit, name, caller).reset_time
    except StorageError:
        log.warning("Rate limit storage unreachable: %s let through", name, exc_info=True)
        return
    wait = max(1, math.ceil(reset_at - time.time()))
    log.info("Rate limit %s (%s) reached by %s", name, limit, caller)
    raise TooManyRequests(f"{LIMITS[name]} {_try_again(wait)}", wait)


def _try_again(seconds: int) -> str:
    if seconds < 120:
        return ngettext("Please try again in %(num)s second.",
                        "Please try again in %(num)s seconds.", seconds)  # fmt: skip
    minutes = math.ceil(seconds / 60)
    return ngettext("Please try again in %(num)s minute.",
                    "Please try again in %(num)s minutes.", minutes)  # fmt: skip


def client_address() -> str:
    """The client's address: the peer, or what trusted proxies say (VM_HTTP_PROXY_HOPS)."""
    return f"ip:{request.remote_addr or 'unknown'}"


def learner() -> str:
    """The person of this launch (after ``launch_required``)."""
    return f"person:{g.launch.person.id}"


def limited(name: str, caller: Callable[[], str]) -> Callable[[Callable[..., Any]], Any]:
    """Check limit ``name`` for ``caller()`` before the view runs."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(name, caller())
            return view(*args, **kwargs)

        return wrapper

    return decorate
