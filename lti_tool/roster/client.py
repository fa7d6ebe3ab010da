"""A names-and-roles (NRPS 2.0) client: every page of a course's membership container.

Pages are followed through ``Link: <…>; rel="next"`` exactly as the platform wrote the URL
(Moodle's and Canvas's next links carry their own, case-sensitive query parameters).
Every refusal or malformed answer becomes a ``RosterError`` whose message an instructor
can read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.utils import parse_header_links

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
#: A platform that keeps sending "next" stops here (a million members at 100 a page).
MAX_PAGES = 10_000
_MEANING = {401: "the platform did not accept the tool's access token",
            403: "the platform does not allow the tool to read this course's roster",
            404: "the platform does not know this course's roster any more",
            429: "the platform asked the tool to slow down; it will try again later"}  # fmt: skip


class RosterError(Exception):
    """The roster could not be read; the message says why, in words."""


@dataclass(frozen=True)
class Member:
    """One member as the platform listed them (only the personal data it chose to send)."""

    user_id: str
    roles: tuple[str, ...]
    status: str  # Active, Inactive or Deleted
    personal: dict[str, str]


#: Names-and-roles member fields we keep, and the person column each goes to.
PERSONAL_FIELDS = {"name": "name", "given_name": "given_name", "family_name": "family_name",
                   "email": "email", "picture": "picture_url"}  # fmt: skip
STATUSES = {"active": "Active", "inactive": "Inactive", "deleted": "Deleted"}


def with_rlid(url: str, rlid: str | None) -> str:
    """The memberships URL limited to a resource link's members (its query kept as is)."""
    if not rlid:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "rlid"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("rlid", rlid)])))


def member_pages(url: str, token: str, *, timeout: float) -> Iterator[list[Member]]:
    """Each page's members, first to last, following rel="next"."""
    seen: set[str] = set()
    next_url: str | None = url
    with requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE})
        while next_url is not None:
            if next_url in seen or len(seen) >= MAX_PAGES:
                raise RosterError(
                    "The platform's roster pages go round in a circle; the sync stopped."
                )
            seen.add(next_url)
            response = _get(http, next_url, timeout)
            yield parse_members(_json(response))
            next_url = next_link(response.headers.get("Link", ""))


def next_link(header: str) -> str | None:
    """The URL of the rel="next" link, exactly as written (rel compared case-insensitively)."""
    if not header:
        return None
    for link in parse_header_links(header):
        rels = str(link.get("rel", "")).lower().split()
        if "next" in rels and link.get("url"):
            return str(link["url"])
    return None


def parse_members(body: Any) -> list[Member]:
    """The members of one page; members without a user id are skipped."""
    if not isinstance(body, dict) or not isinstance(body.get("members"), list):
        raise RosterError("The platform's answer is not a names-and-roles membership list.")
    members = []
    for raw in body["members"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str):
            continue
        user_id = raw["user_id"].strip()
        if not user_id:
            continue
        roles: list[Any] = raw["roles"] if isinstance(raw.get("roles"), list) else []
        status = STATUSES.get(str(raw.get("status") or "Active").lower(), "Active")
        personal = {
            field: value.strip()
            for field, value in ((f, raw.get(f)) for f in PERSONAL_FIELDS)
            if isinstance(value, str) and value.strip()
        }
        members.append(
            Member(
                user_id=user_id[:255],
                roles=tuple(r for r in roles if isinstance(r, str)),
                status=status,
                personal=personal,
            )
        )
    return members


def _get(http: requests.Session, url: str, timeout: float) -> requests.Response:
    try:
        response = http.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise RosterError(
            f"The platform's roster service could not be reached ({type(exc).__name__})."
        ) from exc
    if response.status_code != 200:
        meaning = _MEANING.get(response.status_code, "the platform had an error")
        raise RosterError(
            f"The platform refused the roster request: HTTP {response.status_code}, {meaning}."
        )
    return response


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise RosterError("The platform's roster answer is not valid JSON.") from exc
