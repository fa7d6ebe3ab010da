"""Webhook endpoints, added and removed by an administrator with the CLI.

One endpoint in use per registration. Its address must be https (plain http only on this
machine, outside production) and must not lead to a private, loopback or link-local
address unless VM_HTTP_ALLOWED_PRIVATE_NETWORKS (or, for private addresses,
VM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES) allows it: anyone who can add a webhook could otherwise
make the tool post into the network it runs in. The signing secret is
made here, shown once, and kept encrypted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import clock, crypto
from lti_tool.addresses import address_problem, resolved_problem
from lti_tool.errors import AppError, NotFound
from lti_tool.http_safety import AddressPolicy
from lti_tool.lti.models import PlatformRegistration
from lti_tool.mentoring.channels.models import WebhookEndpoint

#: Marks a webhook secret for what it is (in a receiver's settings, in a secret scanner).
SECRET_PREFIX = "vmwh_"  # noqa: S105 (a prefix, not a secret)


class WebhookError(AppError):
    """A webhook endpoint cannot be kept as given; the message says why."""


@dataclass(frozen=True)
class AddressRules:
    """Where webhooks may go (VM_ENV, VM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    VM_HTTP_ALLOWED_PRIVATE_NETWORKS)."""

    production: bool
    allow_private: bool = False
    #: Networks and hosts allowed although not public (VM_HTTP_ALLOWED_PRIVATE_NETWORKS).
    allowed: AddressPolicy = field(default_factory=AddressPolicy)

    @property
    def policy(self) -> AddressPolicy:
        """The connection policy these rules make."""
        return replace(self.allowed, loopback=not self.production, private=self.allow_private)


def check_url(url: str, rules: AddressRules, *, resolve: bool = True) -> str:
    """The webhook's address, if it may be posted to; else WebhookError saying why.
    With ``resolve`` (when it is given, so nothing refused is stored) where the host resolves
    to is checked too; a use of a stored one leaves that to the connection
    (``http_safety.session``), which resolves and checks it anyway.
    """
    text = url.strip()
    what = "The webhook address"
    problem = address_problem(
        text, production=rules.production, what=what, carrying="the signed messages"
    )
    if problem is None and resolve:
        problem = resolved_problem(text, rules.policy, what=what)
    if problem is not None:
        raise WebhookError(problem)
    return text


def add(
    session: Session, registration_id: int, url: str, rules: AddressRules, name: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Keep a new endpoint for the registration; returns it and its secret (shown once)."""
    if session.get(PlatformRegistration, registration_id) is None:
        raise NotFound(f"There is no platform registration #{registration_id}.")
    held = in_use(session, registration_id)
    if held is not None:
        raise WebhookError(
            f"Registration #{registration_id} already posts to {held.url} (webhook #{held.id}); "
            "remove that one first."
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        registration_id=registration_id, url=check_url(url, rules),
        name=name.strip()[:255] or f"Webhook of registration #{registration_id}",
        secret_encrypted=crypto.encrypt(secret.encode()),
    )  # fmt: skip
    session.add(endpoint)
    session.commit()
    return endpoint, secret


def remove(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """Stop posting to the endpoint and forget its secret."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.removed_at is not None:
        raise NotFound(f"There is no webhook #{endpoint_id}.")
    endpoint.removed_at, endpoint.secret_encrypted = clock.now(), b""
    session.commit()
    return endpoint


def in_use(session: Session, registration_id: int) -> WebhookEndpoint | None:
    """The registration's endpoint in use, if it has one."""
    return session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.registration_id == registration_id,
            WebhookEndpoint.removed_at.is_(None),
        )
    )
