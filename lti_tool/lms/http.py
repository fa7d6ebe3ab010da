"""Calling an LMS's API with care: a timeout on every call, no redirects, no other sites,
a cap on what is read, a short backoff when the LMS is busy, and every failure in words.

The token goes in a header (Canvas) or a form body (Moodle), never in a URL, so no access
log or proxy on the way keeps it; this module never logs it either.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from lti_tool import http_safety
from lti_tool.courses.sync_jobs import SyncError
from lti_tool.events.services import origin
from lti_tool.lti.paging import next_link
from xapi.lrs import retry_after, timed_out

log = logging.getLogger(__name__)
#: An answer larger than this is not what the readers ask for.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Tries of one call while the LMS says it is busy (429, 5xx, Canvas's throttling 403).
BUSY_TRIES = 3
#: The longest wait between those tries, whatever the LMS's Retry-After says; a longer
#: one is left to the next poll.
MAX_WAIT_SECONDS = 30.0
#: A listing that keeps sending "next" is stopped here.
MAX_PAGES = 1_000
_MEANING = {401: "it did not accept the token",
            403: "the token's user may not read this",
            404: "it does not know this address"}  # fmt: skip


class LmsError(SyncError):
    """The LMS could not be read; the message says why, in words for the administrator."""


class LmsRefused(LmsError):
    """The LMS answered with an HTTP error status (kept for callers that expect some)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        #: The HTTP status of the refusal.
        self.status = status


@dataclass
class Answer:
    """An LMS's answer: its JSON body and its headers."""

    body: Any
    headers: Mapping[str, str]


@dataclass
class LmsHttp:
    """Calls to one LMS site, as ``lms`` ("Moodle", "Canvas") in every sentence."""

    lms: str
    base_url: str
    timeout: float
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    _session: requests.Session = field(default_factory=http_safety.session, repr=False)

    def __post_init__(self) -> None:
        self._session.headers.update({"Accept": "application/json", **self.headers})

    def close(self) -> None:
        """Let go of the connections."""
        self._session.close()

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Answer:
        """GET ``url`` (on the LMS's site) and its JSON."""
        return self._send("GET", url, params=params)

    def post(self, url: str, data: Mapping[str, Any]) -> Answer:
        """POST ``data`` form-encoded to ``url`` (on the LMS's site) and its JSON."""
        return self._send("POST", url, data=data)

    def pages(self, url: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Each page's JSON, following ``Link: <…>; rel="next"`` on the same site only."""
        seen: set[str] = set()
        answer = self.get(url, params)
        while True:
            yield answer.body
            following = next_link(answer.headers.get("Link", ""))
            if following is None:
                return
            if following in seen or len(seen) >= MAX_PAGES:
                raise LmsError(f"{self.lms}'s pages go round in a circle; the read stopped.")
            seen.add(following)
            answer = self.get(following)

    def _send(self, method: str, url: str, **kwargs: Any) -> Answer:
        if origin(url) != origin(self.base_url):
            raise LmsError(
                f"{self.lms} sent the tool to another site ({origin(url) or url[:80]}); "
                "the tool does not send the token there."
            )
        for attempt in range(1, BUSY_TRIES + 1):
            status, raw, headers = self._exchange(method, url, **kwargs)
            wait = self._busy(status, raw, headers, attempt)
            if wait is None:
                return Answer(self._json(status, raw), headers)
            log.info("%s is busy (HTTP %s); trying again in %.0f s", self.lms, status, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover (the last try raises)

    def _exchange(self, method: str, url: str, **kwargs: Any) -> tuple[int, bytes, Any]:
        try:
            with self._session.request(method, url, timeout=self.timeout, stream=True,
                                       allow_redirects=False, **kwargs) as answer:  # fmt: skip
                return answer.status_code, self._read(answer), answer.headers
        except http_safety.AddressRefused as exc:
            raise LmsError(f"{self.lms}'s address is refused: {exc}") from None
        except requests.RequestException as exc:
            if timed_out(exc):
                raise LmsError(f"{self.lms} did not answer within {self.timeout:g} s.") from None
            raise LmsError(f"{self.lms} could not be reached ({type(exc).__name__}).") from None

    def _read(self, answer: requests.Response) -> bytes:
        data = bytearray()
        for chunk in answer.iter_content(64 * 1024):
            data.extend(chunk)
            if len(data) > MAX_BODY_BYTES:
                raise LmsError(
                    f"{self.lms}'s answer is larger than {MAX_BODY_BYTES // 2**20} MB; "
                    "the tool does not read it."
                )
        return bytes(data)

    def _busy(self, status: int, raw: bytes, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None if the answer is final."""
        throttled = status == 403 and b"rate limit exceeded" in raw[:2048].lower()
        if not (status == 429 or status >= 500 or throttled):
            return None
        asked = retry_after(headers.get("Retry-After", ""))
        wait = asked if asked is not None else 2.0**attempt
        if attempt == BUSY_TRIES or wait > MAX_WAIT_SECONDS:
            meaning = "had an error of its own" if status >= 500 else "asked the tool to slow down"
            raise LmsError(
                f"{self.lms} {meaning} (HTTP {status}) {attempt} time(s); "
                "the next poll tries again."
            )
        return wait

    def _json(self, status: int, raw: bytes) -> Any:
        if 300 <= status < 400:
            raise LmsError(
                f"{self.lms} answered with a redirect (HTTP {status}); give the connection "
                f"the address {self.lms} lives at (the tool does not follow redirects with "
                "the token)."
            )
        if not 200 <= status < 300:
            meaning = _MEANING.get(status, "it refused the request")
            raise LmsRefused(f"{self.lms} refused: HTTP {status}, {meaning}.", status)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise LmsError(
                f"{self.lms}'s answer is not JSON (an error or login page?); check the "
                "connection's address."
            ) from None
