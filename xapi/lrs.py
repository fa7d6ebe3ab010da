"""Talking to an LRS: ``GET {endpoint}/statements`` page by page, ``POST`` a batch and ``PUT``
one statement, every failure in words.

The HTTP is done with ``requests``, not tincan's ``RemoteLRS``: that one sets no timeout on
its calls (an LRS that hangs would hold a worker for ever), speaks no xAPI 2.0, parses the
statements an LRS returns strictly into its own objects (foreign ones it cannot model fail),
and turns refusals into booleans where the administrator needs a sentence.

Paging follows the StatementResult's ``more`` (xAPI Data 2.5: a path relative to the LRS's
scheme, host and port; some LRSs write it absolute, a few relative to the endpoint) until
it is empty. A ``more`` that points at another site is refused: the tool's credentials
would go with it.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from lti_tool import http_safety
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
#: The most of an LRS's error body quoted back to the administrator.
_QUOTED = 300


class LrsError(Exception):
    """The LRS could not be read; the message says why, in words for the administrator."""


class LrsBusy(LrsError):
    """The LRS asked to be called later (429) or had an error of its own (5xx)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        #: Seconds the LRS asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


class LrsRefused(LrsError):
    """The LRS refused what was sent (a 4xx other than 401, 403 and 429): the statements, not
    the LRS, are at fault, so the others may still go."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        #: The HTTP status the LRS answered with.
        self.status = status


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

    @contextlib.contextmanager
    def http(self) -> Iterator[requests.Session]:
        """A connection to the LRS with its credentials and version header."""
        with http_safety.session() as http:
            http.auth = (self.username, self.password)
            http.headers.update({VERSION_HEADER: self.version, "Accept": "application/json"})
            yield http

    def pages(self, url: str) -> Iterator[Page]:
        """Each page from ``url`` on, following ``more`` until it is empty."""
        seen: set[str] = set()
        next_url: str | None = url
        with self.http() as http:
            while next_url is not None:
                if next_url in seen or len(seen) >= MAX_PAGES:
                    raise LrsError("The LRS's pages go round in a circle; the poll stopped.")
                seen.add(next_url)
                page = self._page(http, next_url)
                yield page
                next_url = self.more_url(page.more) if page.more else None

    def _page(self, http: requests.Session, url: str) -> Page:
        body, headers = self._get(http, url)
        if not isinstance(body, dict) or not isinstance(body.get("statements"), list):
            raise LrsError("The LRS's answer is not a StatementResult (no list of statements).")
        more = body.get("more")
        return Page(
            statements=body["statements"],
            more=more.strip() if isinstance(more, str) else "",
            consistent_through=_instant(headers.get(CONSISTENT_THROUGH, "")),
        )

    def send(self, http: requests.Session, statements: list[dict[str, Any]]) -> None:
        """POST the statements as one array; returns once the LRS has accepted them all.

        Raises ``LrsRefused`` when the LRS refuses the batch (one bad statement refuses all),
        ``LrsBusy`` on 429 and 5xx, and ``LrsError`` when it cannot be reached or the
        credentials are wrong.
        """
        self._write(http, "POST", f"{self.endpoint}/statements", statements)

    def put(self, http: requests.Session, statement: dict[str, Any]) -> None:
        """PUT one statement under its id (``?statementId=``), failing as ``send`` does."""
        url = f"{self.endpoint}/statements?{urlencode({'statementId': statement['id']})}"
        self._write(http, "PUT", url, statement)

    def fetch(self, http: requests.Session, statement_id: str) -> dict[str, Any] | None:
        """The LRS's statement with this id, or None if it will not say (any failure)."""
        url = f"{self.endpoint}/statements?{urlencode({'statementId': statement_id})}"
        try:
            body, _ = self._get(http, url)
        except LrsError:
            return None
        return body if isinstance(body, dict) else None

    def _get(self, http: requests.Session, url: str) -> tuple[Any, Mapping[str, str]]:
        """The JSON the LRS answers a GET with, and the answer's headers."""
        with (
            self._reaching(),
            http.get(url, timeout=self.timeout, stream=True, allow_redirects=False) as answer,
        ):
            _check_status(answer)
            return _json(answer), answer.headers

    def _write(self, http: requests.Session, method: str, url: str, body: Any) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        with (
            self._reaching(),
            http.request(method, url, data=data, headers=headers, timeout=self.timeout,
                         stream=True, allow_redirects=False) as answer,
        ):  # fmt: skip
            if not 200 <= answer.status_code < 300:  # 200 for POST, 204 for PUT
                _check_sent(answer)

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn what ``requests`` raises into an ``LrsError`` that says it in words."""
        try:
            yield
        except http_safety.AddressRefused as exc:
            raise LrsError(f"The LRS's address is refused: {exc}") from None
        except requests.RequestException as exc:
            if timed_out(exc):
                raise LrsError(f"The LRS did not answer within {self.timeout:g} s.") from None
            raise LrsError(f"The LRS could not be reached ({type(exc).__name__}).") from None

    def more_url(self, more: str) -> str:
        """Where ``more`` points, on the endpoint's site only."""
        url = urljoin(f"{self.endpoint}/", more.strip())
        if origin(url) != origin(self.endpoint) or urlsplit(url).username is not None:
            raise LrsError(
                f"The LRS sent its next page to another site ({origin(url) or more[:80]}); "
                "the tool does not send the LRS's credentials there."
            )
        return url


def timed_out(exc: requests.RequestException) -> bool:
    """Whether a failed call ran out of time (a body that stops coming is a ConnectionError
    wrapping urllib3's read timeout, not a ``requests.Timeout``)."""
    cause = exc.args[0] if exc.args else None
    return isinstance(exc, requests.Timeout) or isinstance(cause, ReadTimeoutError)


def _check_status(answer: requests.Response) -> None:
    status = answer.status_code
    if status == 200:
        return
    _check_busy(answer)
    if 300 <= status < 400:
        raise LrsError(
            f"The LRS answered with a redirect (HTTP {status}); give the endpoint it names "
            "(the tool does not follow redirects with the LRS's credentials)."
        )
    meaning = _MEANING.get(status, "the LRS refused the request")
    raise LrsError(f"The LRS refused to list statements: HTTP {status}, {meaning}.")


def _check_busy(answer: requests.Response) -> None:
    """Raise ``LrsBusy`` for 429 and 5xx, with the wait the LRS asked for."""
    status = answer.status_code
    if status == 429 or status >= 500:
        wait = retry_after(answer.headers.get("Retry-After", ""))
        meaning = "asked the tool to slow down" if status == 429 else "had an error of its own"
        raise LrsBusy(f"The LRS {meaning} (HTTP {status}).", wait)


def _check_sent(answer: requests.Response) -> None:
    """Raise the error a POST or PUT of statements that was not accepted deserves."""
    status = answer.status_code
    _check_busy(answer)
    if status in (401, 403):
        meaning = ("did not accept the username and password" if status == 401
                   else "does not allow these credentials to send statements")  # fmt: skip
        raise LrsError(f"The LRS {meaning} (HTTP {status}); statements wait until the "
                       "credentials are corrected (xapi remove-lrs, then add-lrs).")  # fmt: skip
    if 300 <= status < 400:
        raise LrsError(f"The LRS answered HTTP {status} instead of accepting the statements; "
                       "give the endpoint it names.")  # fmt: skip
    said = _said(answer)
    if status == 409:
        raise LrsRefused(f"The LRS holds a different statement under this id (HTTP 409){said}.",
                         status)  # fmt: skip
    if 400 <= status < 500:
        raise LrsRefused(f"The LRS refused the statement(s): HTTP {status}{said}.", status)
    raise LrsError(f"The LRS answered HTTP {status} instead of accepting the statements.")


def _said(answer: requests.Response) -> str:
    """What the LRS said about a refusal, shortened, as ``: …`` (or nothing)."""
    head = answer.raw.read(_QUOTED * 4, decode_content=True) or b""
    text = " ".join(head.decode("utf-8", "replace").split())
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or text)
    return f": {text[:_QUOTED]}" if text else ""


def backoff(
    attempt: int, retry_after: float | None, *, first: float, most: float, jitter: float = 0.0
) -> float:
    """Seconds to wait before trying an LRS again.

    What the LRS asked for (Retry-After), else ``first`` doubling with each ``attempt``
    (0 for the first retry), of which up to the ``jitter`` fraction is taken off at random
    so that many waiting workers do not come back at once; never over ``most`` nor under 1 s.
    """
    if retry_after is not None:
        return min(max(retry_after, 1.0), most)
    wait = min(first * float(2 ** min(attempt, 32)), most)
    wait -= wait * jitter * random.random()  # noqa: S311 (spreading retries, not a secret)
    return max(wait, min(first, most), 1.0)


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
