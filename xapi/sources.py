"""LRS sources: added and removed by an administrator with the CLI, checked before they are kept.

The endpoint must be https (plain http only on this machine, outside production); the
password is encrypted with ``lti_tool.crypto`` before it reaches the database and is never
shown back; filters are the LRS's own GET /statements parameters, checked with the xAPI
rules so the LRS never sees one it must refuse.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.courses.syncs import SyncStatus
from lti_tool.errors import AppError, NotFound
from lti_tool.jobs import enqueue_after_commit
from lti_tool.lti.models import PlatformRegistration
from xapi.models import LrsSource
from xapi.tasks import pull_lrs
from xapi.validation import SUPPORTED_VERSIONS, StatementError, validate_statement

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: The GET /statements filters a source may set (xAPI Communication 2.1.3).
FILTERS = ("verb", "activity", "agent", "registration", "related_activities", "related_agents")
_PLACEHOLDER = {"mbox": "mailto:someone@example.invalid"}


class SourceError(AppError):
    """An LRS source cannot be kept as given; the message says which part and why."""


@dataclass(frozen=True)
class NewSource:
    """What an administrator says of an LRS to read statements from."""

    registration_id: int
    name: str
    endpoint: str
    username: str
    password: str
    xapi_version: str = SUPPORTED_VERSIONS[0]
    filters: Mapping[str, Any] = field(default_factory=dict)
    since: datetime | None = None


def add(session: Session, new: NewSource, *, production: bool) -> LrsSource:
    """Check and keep the source, and queue its first poll."""
    if session.get(PlatformRegistration, new.registration_id) is None:
        raise NotFound(f"There is no platform registration #{new.registration_id}.")
    if new.xapi_version not in SUPPORTED_VERSIONS:
        raise SourceError(f"The xAPI version must be one of {', '.join(SUPPORTED_VERSIONS)}.")
    if not new.username or not new.password:
        raise SourceError("The LRS's username and password are both needed.")
    now = clock.now()
    source = LrsSource(
        registration_id=new.registration_id, name=new.name.strip()[:255] or "LRS",
        endpoint=check_endpoint(new.endpoint, production=production), username=new.username,
        password_encrypted=crypto.encrypt(new.password.encode()),
        xapi_version=new.xapi_version, filters=check_filters(new.filters, new.xapi_version),
        cursor_since=new.since, cursor_ids=[], status=SyncStatus.QUEUED, next_poll_at=now,
    )  # fmt: skip
    session.add(source)
    session.flush()
    enqueue_after_commit(pull_lrs, source.id)
    session.commit()
    return source


def remove(session: Session, source_id: int) -> LrsSource:
    """Stop polling the source and forget its password; what it brought in stays."""
    source = session.get(LrsSource, source_id)
    if source is None or source.removed_at is not None:
        raise NotFound(f"There is no LRS source #{source_id}.")
    source.removed_at, source.password_encrypted = clock.now(), b""
    session.commit()
    return source


def check_endpoint(url: str, *, production: bool) -> str:
    """The endpoint without a trailing slash; https, or http on loopback outside production."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError("The endpoint is not a web address (https://…).")
    if parts.username is not None or parts.password is not None:
        raise SourceError("Give the username and password as options, not in the endpoint.")
    if parts.query or parts.fragment:
        raise SourceError("The endpoint has no query or fragment (…/xapi, not …/xapi?…).")
    if parts.scheme == "http" and (production or parts.hostname not in LOOPBACK_HOSTS):
        raise SourceError("The endpoint must use https:// (the password would travel in clear).")
    return text.removesuffix("/statements")


def check_filters(filters: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The filters, each checked against the xAPI rules; the first wrong one is named."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise SourceError(f"{unknown[0]} is not a filter; use {', '.join(FILTERS)}.")
    kept = {name: value for name, value in filters.items() if value not in (None, "", False)}
    agent = kept.get("agent")
    if isinstance(agent, str):
        try:
            kept["agent"] = agent = json.loads(agent)
        except ValueError:
            raise SourceError("agent must be an Agent as JSON, e.g. '{\"mbox\": …}'.") from None
    if "registration" in kept:
        try:
            kept["registration"] = str(uuid.UUID(str(kept["registration"])))
        except ValueError:
            raise SourceError("registration must be a UUID.") from None
    probe = {
        "actor": agent if agent is not None else _PLACEHOLDER,
        "verb": {"id": kept.get("verb", "http://adlnet.gov/expapi/verbs/experienced")},
        "object": {"id": kept.get("activity", "https://example.invalid/activity")},
    }
    try:
        validate_statement(probe, version)
    except StatementError as exc:
        part = re.split(r"[.\[]", exc.path)[0]
        what = {"actor": "agent", "verb": "verb", "object": "activity"}.get(part, "agent")
        raise SourceError(f"The {what} filter: {exc.message}") from None
    for flag, needs in (("related_activities", "activity"), ("related_agents", "agent")):
        if flag in kept and needs not in kept:
            raise SourceError(f"{flag} widens the {needs} filter; give an {needs} too.")
        if flag in kept:
            kept[flag] = True
    return kept


def summary(source: LrsSource) -> str:
    """Where the source's polls stand, in words (never its password)."""
    if source.removed_at is not None:
        return f"removed {source.removed_at:%Y-%m-%d %H:%M} UTC; its statements stay"
    read = (f"{source.pages} page(s), {source.statements_read} statement(s) read, "
            f"{source.statements_new} new, {source.statements_skipped} skipped")  # fmt: skip
    polled = (f"last read to the end {source.last_polled_at:%Y-%m-%d %H:%M} UTC"
              if source.last_polled_at else "never read to the end yet")  # fmt: skip
    if source.status == SyncStatus.FAILED:
        return f"failed: {source.error} ({polled})"
    if source.status == SyncStatus.QUEUED and source.error:
        return f"waiting: {source.error} ({polled})"
    return f"{source.status.value}: {read} ({polled})"
