"""The embedded platform's side of LTI Dynamic Registration (development and tests only).

The platform keeps no table of the clients it registers: a client id is signed by the
platform, so the auth endpoint can tell its own clients from strangers without storage.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.devplatform.advantage import SCOPES
from lti_tool.devplatform.directory import PLATFORM_NAME, new_client
from lti_tool.lti.config import DEEP_LINKING, RESOURCE_LINK, TOOL_CONFIGURATION

bp = Blueprint("devplatform_registration", __name__, url_prefix="/dev-platform")
PRODUCT_FAMILY = "virtual-mentor-embedded"
REGISTRATION_TOKEN_SECONDS = 3600
MESSAGES = [{"type": RESOURCE_LINK}, {"type": DEEP_LINKING}]


class RegistrationRefused(Exception):
    """An RFC 7591 error answer: status, error code and a sentence."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _issuer() -> str:
    return f"{request.host_url.rstrip('/')}/dev-platform"


def registration_token(secret: str) -> str:
    """A one-hour token that lets a tool register (what an LMS admin's screen hands out)."""
    return URLSafeTimedSerializer(secret, salt="dev-platform-registration").dumps("register")


@bp.errorhandler(RegistrationRefused)
def _refused(error: RegistrationRefused) -> tuple[Response, int]:
    return jsonify({"error": error.error, "error_description": error.description}), error.status


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    """The platform's OpenID configuration, with its LTI platform configuration."""
    issuer = _issuer()
    return jsonify({
        "issuer": issuer, "authorization_endpoint": f"{issuer}/auth",
        "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
        "registration_endpoint": f"{issuer}/register",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", *sorted(SCOPES)],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
        "subject_types_supported": ["public"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": PRODUCT_FAMILY, "version": "1", "messages_supported": MESSAGES,
        },
    })  # fmt: skip


@bp.post("/register")
def register() -> tuple[Response, int]:
    """Register a tool: check the bearer registration token and the client metadata."""
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    try:
        URLSafeTimedSerializer(_secret(), salt="dev-platform-registration").loads(
            bearer, max_age=REGISTRATION_TOKEN_SECONDS
        )
    except SignatureExpired as exc:
        raise RegistrationRefused(401, "invalid_token", "The registration token expired.") from exc
    except BadSignature as exc:
        raise RegistrationRefused(
            401, "invalid_token", "A registration token from this platform is required."
        ) from exc
    body = check_client_metadata(request.get_json(silent=True))
    client_id, deployment_id = new_client(_secret())
    answer = {**body, "client_id": client_id}
    answer[TOOL_CONFIGURATION] = {**body[TOOL_CONFIGURATION], "deployment_id": deployment_id}
    return jsonify(answer), 201


def check_client_metadata(body: Any) -> dict[str, Any]:
    """The client registration, unless an LMS would refuse it (RFC 7591 invalid_client_metadata)."""

    def refuse(description: str) -> RegistrationRefused:
        return RegistrationRefused(400, "invalid_client_metadata", description)

    if not isinstance(body, dict):
        raise refuse("The registration must be a JSON object.")
    for name in ("initiate_login_uri", "client_name", "jwks_uri"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise refuse(f"{name} is required.")
    if "id_token" not in (body.get("response_types") or []):
        raise refuse("response_types must include id_token.")
    if not isinstance(body.get("redirect_uris"), list) or not body["redirect_uris"]:
        raise refuse("redirect_uris must be a non-empty list.")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        raise refuse("token_endpoint_auth_method must be private_key_jwt.")
    if body.get("application_type", "web") != "web":
        raise refuse("application_type must be web.")
    unknown = set(str(body.get("scope", "")).split()) - SCOPES
    if unknown:
        raise refuse(f"Scopes this platform does not offer: {' '.join(sorted(unknown))}.")
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict) or not tool.get("domain") or not tool.get("target_link_uri"):
        raise refuse(f"{TOOL_CONFIGURATION} needs domain and target_link_uri.")
    offered = {message["type"] for message in MESSAGES}
    for message in tool.get("messages") or []:
        if not isinstance(message, dict) or message.get("type") not in offered:
            raise refuse("messages may only name LtiResourceLinkRequest or LtiDeepLinkingRequest.")
    return body


@bp.get("/install")
def install() -> str:
    """The platform's "add a tool by registration URL" screen, framing the tool's /lti/register."""
    tool_url = request.args.get("tool", request.host_url).rstrip("/")
    params = {
        "openid_configuration": f"{_issuer()}/.well-known/openid-configuration",
        "registration_token": registration_token(_secret()),
    }
    return render_template(
        "devplatform/install.html", platform_name=PLATFORM_NAME, tool_origin=tool_url,
        register_url=f"{tool_url}/lti/register?{urlencode(params)}",
    )  # fmt: skip
