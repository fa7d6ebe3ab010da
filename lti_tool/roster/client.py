"""A names-and-roles (NRPS 2.0) client: every page of a course's membership container.

Paging and errors are ``lti.paging``'s; every refusal or malformed answer becomes a
``RosterError`` whose message an instructor can read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lti_tool.courses.sync_jobs import SyncError
from lti_tool.lti.paging import json_pages

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class RosterError(SyncError):
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
    for body in json_pages(url, token, MEDIA_TYPE, timeout=timeout, error=RosterError,
                           what="roster"):  # fmt: skip
        yield parse_members(body)


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
