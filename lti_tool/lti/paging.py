"""Reading every page of an LTI Advantage service (names and roles, line items, results).

Pages are followed through ``Link: <…>; rel="next"`` exactly as the platform wrote the URL
(Moodle's and Canvas's next links carry their own, case-sensitive query parameters); the
rel is compared without case, as RFC 8288 says. A refusal or a malformed answer raises
the caller's error class with a sentence an instructor can read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from requests.utils import parse_header_links

from lti_tool import http_safety

#: A platform that keeps sending "next" stops here.
MAX_PAGES = 10_000
_MEANING = {401: "the platform did not accept the tool's access token",
            403: "the platform does not allow the tool to read this",
            404: "the platform no longer knows this address",
            429: "the platform asked the tool to slow down; it will try again later"}  # fmt: skip


def json_pages(
    url: str, token: str, media_type: str, *, timeout: float, error: type[Exception], what: str
) -> Iterator[Any]:
    """Each page's JSON body, first to last, following rel="next"."""
    seen: set[str] = set()
    next_url: str | None = url
    with http_safety.session() as http:
        http.headers.update({"Authorization": f"Bearer {token}", "Accept": media_type})
        while next_url is not None:
            if next_url in seen or len(seen) >= MAX_PAGES:
                raise error(f"The platform's {what} pages go round in a circle; stopped.")
            seen.add(next_url)
            response = call(http, "GET", next_url, timeout=timeout, error=error, what=what)
            try:
                body = response.json()
            except ValueError as exc:
                raise error(f"The platform's {what} answer is not valid JSON.") from exc
            yield body
            next_url = next_link(response.headers.get("Link", ""))


def call(
    http: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    error: type[Exception],
    what: str,
    **kwargs: Any,
) -> requests.Response:
    """One request to a platform service (no redirects followed); any failure becomes
    ``error`` in words."""
    try:
        response = http.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except http_safety.AddressRefused as exc:
        raise error(f"The platform's {what} service is refused: {exc}") from exc
    except requests.RequestException as exc:
        raise error(
            f"The platform's {what} service could not be reached ({type(exc).__name__})."
        ) from exc
    if not 200 <= response.status_code < 300:
        meaning = _MEANING.get(response.status_code, "the platform had an error")
        raise error(
            f"The platform refused the {what} request: HTTP {response.status_code}, {meaning}."
        )
    return response


def next_link(header: str) -> str | None:
    """The URL of the rel="next" link, exactly as written."""
    if not header:
        return None
    for link in parse_header_links(header):
        rels = str(link.get("rel", "")).lower().split()
        if "next" in rels and link.get("url"):
            return str(link["url"])
    return None
