"""OIDC third-party-initiated login: state and nonce issued once, bound to the browser.

The state is bound to the browser by a cookie, or, when the platform offers
``lti_storage_target`` (Canvas always does), by the LTI client-side postMessage storage,
which works when third-party cookies are blocked. The state is taken from launch storage
exactly once, so a replayed id_token (or a reused nonce) gets nowhere.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session

from lti_tool.lti.errors import AwaitingApproval, LaunchError, LaunchForbidden
from lti_tool.lti.launch import HardenedLaunch, origin_of, same_origin
from lti_tool.lti.models import PlatformRegistration, RegistrationStatus
from lti_tool.lti.storage import LaunchStorage
from lti_tool.lti.toolconf import DatabaseToolConf

STATE_COOKIE_PREFIX = "lti1p3-state-"


@dataclass(frozen=True)
class LoginRequest:
    """What the platform sent to /lti/login."""

    iss: str
    login_hint: str
    target_link_uri: str
    client_id: str
    lti_message_hint: str = ""
    lti_deployment_id: str = ""
    lti_storage_target: str = ""

    @classmethod
    def from_params(cls, params: dict[str, str]) -> LoginRequest:
        """Read the login parameters, naming any that are missing."""
        missing = [
            name for name in ("iss", "login_hint", "target_link_uri") if not params.get(name)
        ]
        if missing:
            raise LaunchError(
                f"The platform's login request is missing {', '.join(missing)}. "
                "Launch the tool again from your course."
            )
        fields = cls.__dataclass_fields__
        return cls(**{name: params.get(name, "") for name in fields})


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser next, and the state that must come back."""

    auth_url: str
    state: str
    nonce: str
    storage_target: str
    platform_origin: str


def registration_for(session: Session, iss: str, client_id: str) -> PlatformRegistration:
    """The registration, or a clear refusal (unknown, waiting for approval, disabled)."""
    model = DatabaseToolConf(session).registration_model(iss, client_id)
    if model is None:
        raise LaunchError(
            f"This platform is not registered with Virtual Mentor (issuer {iss}, client "
            f"{client_id or 'not given'}). Ask your LMS administrator to register the tool."
        )
    if model.status is RegistrationStatus.PENDING:
        raise AwaitingApproval(
            f"{model.name} is registered but waits for an administrator of Virtual Mentor "
            "to approve it. Please try again later."
        )
    if model.status is RegistrationStatus.DISABLED:
        raise LaunchError(f"Virtual Mentor has been switched off for {model.name}.")
    return model


def start_login(
    session: Session,
    store: LaunchStorage,
    login: LoginRequest,
    *,
    redirect_uri: str,
    tool_origin: str,
    ttl: int,
) -> LoginStart:
    """Issue state and nonce, remember them, and build the platform's auth URL."""
    registration = registration_for(session, login.iss, login.client_id)
    if not same_origin(login.target_link_uri, tool_origin):
        raise LaunchError("The platform asked to open a page that is not part of this tool.")
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.put(
        f"state:{state}",
        {"nonce": nonce, "registration_id": registration.id, "login": asdict(login)},
        ttl,
    )
    params = {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": registration.client_id, "redirect_uri": redirect_uri,
        "state": state, "nonce": nonce, "login_hint": login.login_hint,
    }  # fmt: skip
    if login.lti_message_hint:
        params["lti_message_hint"] = login.lti_message_hint
    separator = "&" if urlsplit(registration.auth_login_url).query else "?"
    return LoginStart(
        auth_url=f"{registration.auth_login_url}{separator}{urlencode(params)}",
        state=state,
        nonce=nonce,
        storage_target=login.lti_storage_target,
        platform_origin=origin_of(registration.auth_login_url),
    )


def state_cookie_name(state: str) -> str:
    """The cookie that binds a login's state to the browser that started it."""
    return STATE_COOKIE_PREFIX + state[:24]


def match_login(
    session: Session, store: LaunchStorage, state: str, launch: HardenedLaunch
) -> tuple[PlatformRegistration, dict[str, Any]]:
    """Use up the login's state; the verified token must belong to that very login.

    Returns the registration and what the login remembered.
    """
    remembered = take_state(store, state)
    registration = session.get(PlatformRegistration, remembered["registration_id"])
    claims = launch.claims
    if (
        registration is None
        or registration.issuer != claims.get("iss")
        or registration.client_id != launch.get_client_id()
    ):
        raise LaunchForbidden("The launch token is not from the platform that started the login.")
    if claims.get("nonce") != remembered["nonce"]:
        raise LaunchForbidden("The launch token's nonce is not the one this login issued.")
    launch.validate_target_link_uri(remembered["login"]["target_link_uri"])
    return registration, remembered


def take_state(store: LaunchStorage, state: str) -> dict[str, Any]:
    """The login state, removed so it can never serve twice."""
    remembered = store.take(f"state:{state}") if state else None
    if remembered is None:
        raise LaunchForbidden(
            "This launch has expired or was already used. Please open the tool again "
            "from your course."
        )
    return dict(remembered)
