"""LRS sources: added and removed by an administrator with the CLI, checked before they are kept.

An LRS is read from (polled for statements), sent to (the registration's outbox is delivered
to it), or both. A registration sends to one LRS at most: its statements have one home, and
an administrator replacing it (remove, then add) sends the backlog to the new one.

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

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.addresses import address_problem, resolved_problem
from lti_tool.courses.syncs import SyncStatus
from lti_tool.errors import AppError, NotFound
from lti_tool.jobs import enqueue_after_commit
from lti_tool.lti.models import PlatformRegistration
from xapi.models import LrsPurpose, LrsSource
from xapi.tasks import deliver_outbox, pull_lrs
from xapi.validation import SUPPORTED_VERSIONS, StatementError, validate_statement

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
    purpose: LrsPurpose = LrsPurpose.READ


def add(session: Session, new: NewSource, *, production: bool) -> LrsSource:
    """Check and keep the source; queue its first poll, or the delivery of the outbox."""
    _check(session, new)
    now = clock.now()
    source = LrsSource(
        registration_id=new.registration_id, name=new.name.strip()[:255] or "LRS",
        endpoint=check_endpoint(new.endpoint, production=production), username=new.username,
        password_encrypted=crypto.encrypt(new.password.encode()),
        xapi_version=new.xapi_version, filters=check_filters(new.filters, new.xapi_version),
        cursor_since=new.since, cursor_ids=[], next_poll_at=now, purpose=new.purpose,
        status=SyncStatus.QUEUED if new.purpose != LrsPurpose.SEND else SyncStatus.DONE,
    )  # fmt: skip
    session.add(source)
    session.flush()
    if source.reads:
        enqueue_after_commit(pull_lrs, source.id)
    if source.sends:
        enqueue_after_commit(deliver_outbox, source.registration_id)
    session.commit()
    return source


def _check(session: Session, new: NewSource) -> None:
    """Refuse, in words, what cannot be kept whatever the endpoint and filters."""
    if session.get(PlatformRegistration, new.registration_id) is None:
        raise NotFound(f"There is no platform registration #{new.registration_id}.")
    if new.xapi_version not in SUPPORTED_VERSIONS:
        raise SourceError(f"The xAPI version must be one of {', '.join(SUPPORTED_VERSIONS)}.")
    if not new.username or not new.password:
        raise SourceError("The LRS's username and password are both needed.")
    if new.purpose == LrsPurpose.SEND and (any(new.filters.values()) or new.since is not None):
        raise SourceError("Filters and --since choose what is read; this LRS is only sent to.")
    if new.purpose == LrsPurpose.READ:
        return
    sending = session.scalars(
        select(LrsSource).where(
            LrsSource.registration_id == new.registration_id, LrsSource.removed_at.is_(None),
            LrsSource.purpose.in_([LrsPurpose.SEND, LrsPurpose.BOTH]),
        )
    ).first()  # fmt: skip
    if sending is not None:
        raise SourceError(
            f"Registration #{new.registration_id} already sends its statements to LRS "
            f"#{sending.id} ({sending.name}); remove that one first (its unsent statements "
            "wait for the new one)."
        )


def remove(session: Session, source_id: int) -> LrsSource:
    """Stop polling the source and forget its password; what it brought in stays."""
    source = session.get(LrsSource, source_id)
    if source is None or source.removed_at is not None:
        raise NotFound(f"There is no LRS source #{source_id}.")
    source.removed_at, source.password_encrypted = clock.now(), b""
    session.commit()
    return source


def check_endpoint(url: str, *, production: bool, resolve: bool = True) -> str:
    """The endpoint without a trailing slash; https, or http on loopback outside production.
    With ``resolve`` (when it is given, so nothing refused is stored) where the host resolves
    to is checked too; a use of a stored one leaves that to the connection
    (``http_safety.session``), which resolves and checks it anyway.
    """
    text = url.strip().rstrip("/")
    problem = address_problem(
        text, production=production, what="The endpoint", carrying="the username and password"
    )
    if problem is None and resolve:
        problem = resolved_problem(text, what="The endpoint", unknown_ok=True)
    if problem is not None:
        raise SourceError(problem)
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
    if not source.reads:
        return "not read (only sent to)"
    read = (f"{source.pages} page(s), {source.statements_read} statement(s) read, "
            f"{source.statements_new} new, {source.statements_skipped} skipped")  # fmt: skip
    polled = (f"last read to the end {source.last_polled_at:%Y-%m-%d %H:%M} UTC"
              if source.last_polled_at else "never read to the end yet")  # fmt: skip
    if source.status == SyncStatus.FAILED:
        return f"failed: {source.error} ({polled})"
    if source.status == SyncStatus.QUEUED and source.error:
        return f"waiting: {source.error} ({polled})"
    return f"{source.status.value}: {read} ({polled})"


def sending_summary(source: LrsSource) -> str:
    """How delivering the outbox to the LRS goes, in words."""
    if not source.sends:
        return "not sent to (only read)"
    if source.removed_at is not None:
        return "removed; the registration's statements wait for another LRS"
    sent = (f"last delivered {source.last_sent_at:%Y-%m-%d %H:%M} UTC"
            if source.last_sent_at else "nothing delivered yet")  # fmt: skip
    if source.send_error:
        return f"failing: {source.send_error} ({sent})"
    return f"sending: {sent}"
