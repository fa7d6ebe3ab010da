"""The embedded platform's work: its keys, its registration with the tool, its id_tokens."""

from __future__ import annotations

import functools
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import crypto
from lti_tool.database import upsert
from lti_tool.devplatform.advantage import LINEITEM, LINEITEM_READ, RESULT_READ, SCORE
from lti_tool.devplatform.directory import (
    CLIENT_ID,
    COURSES,
    DEPLOYMENT_ID,
    PLATFORM_NAME,
    USERS,
    deployment_of,
    role_in,
)  # fmt: skip
from lti_tool.devplatform.models import DevPlatformKey
from lti_tool.lti.keys import ensure_keys, new_rsa_key
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus

PUBLISHED_KEYS = 2
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
TOKEN_SECONDS = 300


class PlatformError(Exception):
    """The embedded platform refuses a request (said in the page)."""


def signing_key(session: Session) -> DevPlatformKey:
    """The newest key, made on first use."""
    key = session.scalar(select(DevPlatformKey).order_by(DevPlatformKey.id.desc()))
    return key or rotate_keys(session)


def rotate_keys(session: Session) -> DevPlatformKey:
    """Start signing with a new key; the previous one stays published."""
    pem, public = new_rsa_key()
    key = DevPlatformKey(
        kid=public["kid"], public_jwk=public, private_key_encrypted=crypto.encrypt(pem)
    )
    session.add(key)
    session.commit()
    return key


def published_keys(session: Session) -> list[dict[str, Any]]:
    """The platform's JWKS keys (the newest few)."""
    signing_key(session)
    keys = session.scalars(
        select(DevPlatformKey).order_by(DevPlatformKey.id.desc()).limit(PUBLISHED_KEYS)
    )
    return [dict(key.public_jwk) for key in keys]


def register_with_tool(session: Session, base_url: str) -> PlatformRegistration:
    """Register this platform with the tool (idempotent), as an LMS administrator would."""
    issuer = f"{base_url}/dev-platform"
    values = {
        "issuer": issuer, "client_id": CLIENT_ID, "name": PLATFORM_NAME,
        "auth_login_url": f"{issuer}/auth", "auth_token_url": f"{issuer}/token",
        "key_set_url": f"{issuer}/jwks", "product_family": "virtual-mentor-dev",
        "status": RegistrationStatus.ACTIVE, "auto_activate_deployments": True,
    }  # fmt: skip
    registration_id = upsert(
        session, PlatformRegistration, values, keys=["issuer", "client_id"],
        returning=PlatformRegistration.id,
    )  # fmt: skip
    upsert(
        session, Deployment,
        {"registration_id": registration_id, "deployment_id": DEPLOYMENT_ID,
         "status": RegistrationStatus.ACTIVE},
        keys=["registration_id", "deployment_id"],
    )  # fmt: skip
    ensure_keys(session)
    session.commit()
    return session.get_one(PlatformRegistration, registration_id)


def login_initiation(
    base_url: str,
    tool_url: str,
    course_id: str,
    sub: str,
    *,
    storage: bool,
    secret: str,
    deep_link: bool = False,
    client_id: str = CLIENT_ID,
) -> dict[str, str]:
    """The parameters the platform sends to the tool's /lti/login (the tool may be elsewhere).

    ``client_id`` picks a dynamically registered client instead of the built-in one.
    """
    if course_id not in COURSES or role_in(COURSES[course_id], sub) is None:
        raise PlatformError(f"{sub} is not a member of {course_id}.")
    deployment_id = deployment_of(client_id, secret)
    if deployment_id is None:
        raise PlatformError("This platform registered no tool with that client id.")
    params = {
        "iss": f"{base_url}/dev-platform", "login_hint": sub,
        "target_link_uri": f"{tool_url}/lti/launch", "client_id": client_id,
        "lti_deployment_id": deployment_id,
        "lti_message_hint": URLSafeSerializer(secret, salt="dev-platform").dumps(
            {"course": course_id, "sub": sub, "tool": tool_url, "deep_link": deep_link,
             "client": client_id}
        ),
    }  # fmt: skip
    if storage:
        params["lti_storage_target"] = "_parent"
    return params


def authorize(
    session: Session, base_url: str, params: dict[str, str], secret: str
) -> dict[str, str]:
    """The OIDC auth endpoint: check the request, return the form to post to the tool."""
    for name, expected in (
        ("scope", "openid"),
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
    ):
        if params.get(name) != expected:
            raise PlatformError(f"{name} must be {expected!r}.")
    deployment_id = deployment_of(params.get("client_id", ""), secret)
    if deployment_id is None:
        raise PlatformError("client_id must be that of a tool registered with this platform.")
    if not params.get("nonce") or not params.get("state"):
        raise PlatformError("nonce and state are required.")
    serializer = URLSafeSerializer(secret, salt="dev-platform")
    try:
        hint = serializer.loads(params.get("lti_message_hint", ""))
    except BadSignature as exc:
        raise PlatformError("lti_message_hint was not issued by this platform.") from exc
    if hint.get("sub") != params.get("login_hint"):
        raise PlatformError("login_hint does not match the message hint.")
    if hint.get("client", CLIENT_ID) != params["client_id"]:
        raise PlatformError("client_id does not match the message hint.")
    tool_url = hint["tool"]  # the tool link the person clicked; its launch URL is registered
    if params.get("redirect_uri") != f"{tool_url}/lti/launch":
        raise PlatformError("redirect_uri is not one registered for this tool.")
    token = id_token(
        session, base_url, tool_url, hint["course"], hint["sub"], nonce=params["nonce"],
        deep_link_data=_deep_link_data(hint["course"], secret) if hint.get("deep_link") else None,
        client_id=params["client_id"], deployment_id=deployment_id,
    )  # fmt: skip
    return {"id_token": token, "state": params["state"], "redirect_uri": params["redirect_uri"]}


def id_token(
    session: Session,
    base_url: str,
    tool_url: str,
    course_id: str,
    sub: str,
    *,
    nonce: str,
    deep_link_data: str | None = None,
    client_id: str = CLIENT_ID,
    deployment_id: str = DEPLOYMENT_ID,
) -> str:
    """A signed LtiResourceLinkRequest (or LtiDeepLinkingRequest) for ``sub`` in ``course_id``."""
    course, user = COURSES[course_id], USERS[sub]
    role = role_in(course, sub)
    issuer, now = f"{base_url}/dev-platform", int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer, "aud": client_id, "sub": sub, "iat": now, "exp": now + TOKEN_SECONDS,
        "nonce": nonce, "name": user.name, "given_name": user.given_name,
        "family_name": user.family_name, "email": user.email, "locale": "en-GB",
        CLAIM + "message_type": "LtiResourceLinkRequest", CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": deployment_id, CLAIM + "target_link_uri": f"{tool_url}/lti/launch",
        CLAIM + "resource_link": {"id": f"{course_id}-mentor-tab", "title": "Mentor"},
        CLAIM + "context": {"id": course.context_id, "label": course.label, "title": course.title,
                            "type": [COURSE_OFFERING]},
        CLAIM + "roles": [role] if role else [],
        CLAIM + "tool_platform": {
            "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, issuer)), "name": PLATFORM_NAME,
            "product_family_code": "virtual-mentor-dev",
        },
        NRPS_CLAIM: {"context_memberships_url": f"{issuer}/nrps/{course_id}",
                     "service_versions": ["2.0"]},
        AGS_CLAIM: {"scope": [LINEITEM, LINEITEM_READ, RESULT_READ, SCORE],
                    "lineitems": f"{issuer}/ags/{course_id}/lineitems"},
        CLAIM + "launch_presentation": {
            "document_target": "iframe", "return_url": f"{issuer}/course?course={course_id}",
        },
    }  # fmt: skip
    if deep_link_data is not None:
        del claims[CLAIM + "resource_link"]
        claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
        claims[DL_CLAIM] = {
            "deep_link_return_url": f"{issuer}/deep-link-return",
            "accept_types": ["ltiResourceLink"], "accept_multiple": True,
            "accept_presentation_document_targets": ["iframe", "window"],
            "data": deep_link_data,
        }  # fmt: skip
    key = signing_key(session)
    return jwt.encode(
        claims, _private_key(key.kid, key.private_key_encrypted), algorithm="RS256",
        headers={"kid": key.kid},
    )  # fmt: skip


def _deep_link_data(course_id: str, secret: str) -> str:
    """The opaque data the tool must echo back in its deep-linking response."""
    return URLSafeTimedSerializer(secret, salt="dev-platform-dl").dumps({"course": course_id})


@functools.lru_cache(maxsize=8)
def _private_key(kid: str, encrypted: bytes) -> Any:
    """The parsed private key (parsing and checking an RSA key costs ~20 ms; keep it)."""
    return serialization.load_pem_private_key(crypto.decrypt(encrypted), password=None)
