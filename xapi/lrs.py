"""Reading an LRS: ``GET {endpoint}/statements`` page by page, every failure in words.

The HTTP is done with ``requests``, not tincan's ``RemoteLRS``: that one sets no timeout on
its calls (an LRS that hangs would hold a worker for ever), speaks no xAPI 2.0, and turns
refusals into booleans where the administrator needs a sentence.

Paging follows the StatementResult's ``more`` (xAPI Data 2.5: a path relative to the LRS's
scheme, host and port; some LRSs write it absolute, a few relative to the endpoint) until
it is empty. A ``more`` that points at another site is refused: the tool's credentials
would go with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from lti_tool.events.services import origin
from xapi.times import parse_instant, timestamp

VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
#: An LRS that keeps sending ``more`` is stopped here (a poll goes on at the next one).
MAX_PAGES = 10_000
#: A page larger than this is not a page of statements.
MAX_PAGE_BYTES = 32 * 1024 * 1024
_MEANING = {401: "the LRS did not accept the username and password",
            403: "the LRS does not allow these credentials to read statements",
            404: "the LRS has no statements resource at this endpoint"}  # fmt: skip


class LrsError(Exception):
    """The LRS could not be read; the message says why, in words for the administrator."""


class LrsBusy(LrsError):
    """The LRS asked to be called later (429) or had an error of its own (5xx)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        #: Seconds the LRS asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    """One StatementResult: its statements as sent, and its ``more`` ("" on the last page)."""

    statements: list[Any]
    more: str
    consistent_through: datetime | None


@dataclass(frozen=True)
class LrsClient:
    """How to reach one LRS."""

    endpoint: str
    username: str
    password: str
    version: str
    timeout: float

    def statements_url(self, since: datetime | None, limit: int, filters: Mapping[str, Any]) -> str:
        """The first page's URL: oldest first, from ``since`` (exclusive), with the filters."""
        query: dict[str, str] = {"ascending": "true", "format": "exact", "limit": str(limit)}
        if since is not None:
            query["since"] = timestamp(since)
        for name, value in filters.items():
            if isinstance(value, bool):
                query[name] = "true" if value else "false"
            elif isinstance(value, dict):
                query[name] = json.dumps(value, separators=(",", ":"))
            else:
                query[name] = str(value)
        return f"{self.endpoint}/statements?{urlencode(query)}"

    def pages(self, url: str) -> Iterator[Page]:
        """Each page from ``url`` on, following ``more`` until it is empty."""
        seen: set[str] = set()
        next_url: str | None = url
        with requests.Session() as http:
            http.auth = (self.username, self.password)
            http.headers.update({VERSION_HEADER: self.version, "Accept": "application/json"})
            while next_url is not None:
                if next_url in seen or len(seen) >= MAX_PAGES:
                    raise LrsError("The LRS's pages go round in a circle; the poll stopped.")
                seen.add(next_url)
                page = self._page(http, next_url)
                yield page
                next_url = self.more_url(page.more) if page.more else None

    def _page(self, http: requests.Session, url: str) -> Page:
        try:
            with http.get(url, timeout=self.timeout, stream=True, allow_redirects=False) as answer:
                _check_status(answer)
                body = _json(answer)
        except requests.RequestException as exc:
            if isinstance(exc, requests.Timeout) or isinstance(
                exc.args[0] if exc.args else None, ReadTimeoutError
            ):  # a body that stops coming is a ConnectionError wrapping urllib3's timeout
                raise LrsError(f"The LRS did not answer within {self.timeout:g} s.") from None
            raise LrsError(f"The LRS could not be reached ({type(exc).__name__}).") from None
        if not isinstance(body, dict) or not isinstance(body.get("statements"), list):
            raise LrsError("The LRS's answer is not a StatementResult (no list of statements).")
        more = body.get("more")
        return Page(
            statements=body["statements"],
            more=more.strip() if isinstance(more, str) else "",
            consistent_through=_instant(answer.headers.get(CONSISTENT_THROUGH, "")),
        )

    def more_url(self, more: str) -> str:
        """Where ``more`` points, on the endpoint's site only."""
        url = urljoin(f"{self.endpoint}/", more.strip())
        if origin(url) != origin(self.endpoint) or urlsplit(url).username is not None:
            raise LrsError(
                f"The LRS sent its next page to another site ({origin(url) or more[:80]}); "
                "the tool does not send the LRS's credentials there."
            )
        return url


def _check_status(answer: requests.Response) -> None:
    status = answer.status_code
    if status == 200:
        return
    if status == 429 or status >= 500:
        wait = retry_after(answer.headers.get("Retry-After", ""))
        meaning = "asked the tool to slow down" if status == 429 else "had an error of its own"
        raise LrsBusy(f"The LRS {meaning} (HTTP {status}).", wait)
    if 300 <= status < 400:
        raise LrsError(
            f"The LRS answered with a redirect (HTTP {status}); give the endpoint it names "
            "(the tool does not follow redirects with the LRS's credentials)."
        )
    meaning = _MEANING.get(status, "the LRS refused the request")
    raise LrsError(f"The LRS refused to list statements: HTTP {status}, {meaning}.")


def _json(answer: requests.Response) -> Any:
    data = bytearray()
    for chunk in answer.iter_content(64 * 1024):
        data.extend(chunk)
        if len(data) > MAX_PAGE_BYTES:
            raise LrsError("The LRS's answer is larger than a page of statements can be.")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise LrsError("The LRS's answer is not valid JSON.") from None


def retry_after(header: str) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), if it has one."""
    text = header.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # The LRS's date and the retry's countdown are both wall-clock time, not the app's clock
    # (which a demo may have moved forward).
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _instant(text: str) -> datetime | None:
    return parse_instant(text) if text else None
