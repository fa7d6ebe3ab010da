"""Adding a platform registration: one operation for the CLI and for dynamic registration."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import Conflict
from lti_tool.lti.keys import ensure_keys
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus

log = logging.getLogger(__name__)


class RegistrationExists(Conflict):
    """The (issuer, client_id) pair is registered already; nothing was changed."""

    title = "Already registered"


@dataclass(frozen=True)
class NewRegistration:
    """What the tool must know about a platform client to accept its launches."""

    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    audience: str | None = None
    product_family: str | None = None


def add_registration(
    session: Session,
    new: NewRegistration,
    *,
    status: RegistrationStatus,
    deployments: Sequence[str] = (),
    auto_activate: bool = False,
) -> PlatformRegistration:
    """Store a registration and its deployments (active), or raise RegistrationExists.

    An existing (issuer, client_id) is never overwritten: its keys and deployments may be in
    use, and a platform that hands out a client id twice is one an administrator must look at.
    """
    if existing := _find(session, new.issuer, new.client_id):
        raise RegistrationExists(_exists_message(existing))
    registration = PlatformRegistration(
        issuer=new.issuer, client_id=new.client_id, name=new.name,
        auth_login_url=new.auth_login_url, auth_token_url=new.auth_token_url,
        key_set_url=new.key_set_url, auth_audience=new.audience,
        product_family=new.product_family, status=status, auto_activate_deployments=auto_activate,
    )  # fmt: skip
    session.add(registration)
    for deployment_id in dict.fromkeys(deployments):
        session.add(Deployment(registration=registration, deployment_id=deployment_id,
                               status=RegistrationStatus.ACTIVE))  # fmt: skip
    ensure_keys(session)
    try:
        session.commit()
    except IntegrityError:
        # Another request stored the same client between our check and our commit.
        session.rollback()
        existing = _find(session, new.issuer, new.client_id)
        raise RegistrationExists(_exists_message(existing)) from None
    log.info(
        "Registered platform #%s %s (client %s) as %s",
        registration.id, new.issuer, new.client_id, status.value,
    )  # fmt: skip
    return registration


def _find(session: Session, issuer: str, client_id: str) -> PlatformRegistration | None:
    return session.scalar(
        select(PlatformRegistration).filter_by(issuer=issuer, client_id=client_id)
    )


def _exists_message(existing: PlatformRegistration | None) -> str:
    if existing is None:  # removed again meanwhile: still, this request stored nothing
        return "This platform client was being registered by another request at the same time."
    return (
        f"{existing.issuer} with client {existing.client_id} is already registered "
        f"(#{existing.id} {existing.name}, {existing.status.value}); nothing was changed."
    )
