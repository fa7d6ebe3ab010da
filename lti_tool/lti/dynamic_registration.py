"""LTI Dynamic Registration 1.0: read the platform's configuration, register, remember the client.

The platform opens ``/lti/register?openid_configuration=…&registration_token=…``. The tool
reads that configuration (the token as bearer), checks it, posts its client registration to
the platform's ``registration_endpoint`` and stores the client the platform made, pending an
administrator's approval. The registration token is a credential: it is sent, never logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from lti_tool import http_safety
from lti_tool.addresses import resolved_problem
from lti_tool.lti.config import TOOL_CONFIGURATION, PlatformOffer, client_registration
from lti_tool.lti.errors import PlatformAnswerError, PlatformTimeout, RegistrationRequestError
from lti_tool.lti.models import PlatformRegistration, RegistrationStatus
from lti_tool.lti.registrations import NewRegistration, add_registration

log = logging.getLogger(__name__)
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri",
                      "registration_endpoint")  # fmt: skip
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: A platform configuration or registration answer larger than this is not one.
MAX_ANSWER_BYTES = 256 * 1024
MAX_ID_LENGTH = 255


@dataclass(frozen=True)
class RegistrationSettings:
    """How this tool registers: its origin, the timeout, and what a new registration becomes."""

    tool_origin: str
    timeout: float
    auto_approve: bool
    allow_http_loopback: bool


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration the tool uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    offer: PlatformOffer
    name: str


def register(
    session: Session, openid_configuration: str, token: str | None, settings: RegistrationSettings
) -> PlatformRegistration:
    """The whole exchange; raises a RegistrationError saying what went wrong, storing nothing."""
    check_url(openid_configuration, "The openid_configuration parameter", settings)
    session.commit()  # no transaction is held across the calls to the platform
    platform = read_configuration(openid_configuration, token, settings)
    _check_addresses(platform)
    body = client_registration(settings.tool_origin, platform.offer)
    answer = _call(
        "post", platform.registration_endpoint, token, settings, what="registration endpoint",
        json_body=body,
    )  # fmt: skip
    client_id, deployment_id = _client_of(answer)
    new = NewRegistration(
        issuer=platform.issuer, client_id=client_id, name=platform.name,
        auth_login_url=platform.authorization_endpoint, auth_token_url=platform.token_endpoint,
        key_set_url=platform.jwks_uri, product_family=platform.offer.product_family,
        audience=platform.authorization_server
        if platform.authorization_server not in (None, platform.token_endpoint) else None,
    )  # fmt: skip
    status = RegistrationStatus.ACTIVE if settings.auto_approve else RegistrationStatus.PENDING
    deployments = [deployment_id] if deployment_id else []
    return add_registration(session, new, status=status, deployments=deployments)


def check_url(url: str, what: str, settings: RegistrationSettings) -> None:
    """https, or http on this machine outside production (the embedded platform)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistrationRequestError(f"{what} is not a web address (https://…).")
    if parts.scheme == "http" and not (
        settings.allow_http_loopback and parts.hostname in LOOPBACK_HOSTS
    ):
        raise RegistrationRequestError(
            f"{what} must use https:// (the registration token would travel in clear)."
        )


def _check_addresses(platform: PlatformConfiguration) -> None:
    """Refuse, before anything is stored, a key set or token endpoint the tool would
    not be allowed to call later (each call is checked again at its connection)."""
    for what, url in (("key set (jwks_uri)", platform.jwks_uri),
                      ("token endpoint", platform.token_endpoint)):  # fmt: skip
        problem = resolved_problem(url, what=f"The platform's {what}", unknown_ok=True)
        if problem is not None:
            raise RegistrationRequestError(problem)


def read_configuration(
    url: str, token: str | None, settings: RegistrationSettings
) -> PlatformConfiguration:
    """Fetch and check the platform's OpenID configuration."""
    config = _call("get", url, token, settings, what="OpenID configuration")
    issuer = _text(config, "issuer", "The platform's configuration")
    if _origin(issuer) != _origin(url):
        raise PlatformAnswerError(
            f"The platform's configuration names the issuer {issuer}, which is not the site "
            f"the configuration came from ({_origin(url)}). The tool does not register with it."
        )
    endpoints = {name: _text(config, name, "The platform's configuration")
                 for name in REQUIRED_ENDPOINTS}  # fmt: skip
    for name, endpoint in endpoints.items():
        check_url(endpoint, f"The platform's {name}", settings)
    lti = config.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        raise PlatformAnswerError(
            f"The platform's configuration has no {PLATFORM_CONFIGURATION} section: "
            "it does not say it is an LTI platform."
        )
    family = _text(lti, "product_family_code", "The platform's LTI configuration")
    server = config.get("authorization_server")
    return PlatformConfiguration(
        issuer=issuer, **endpoints,
        authorization_server=server if isinstance(server, str) and server else None,
        offer=PlatformOffer(product_family=family[:64], messages=_messages(lti),
                            scopes=_strings(config.get("scopes_supported"))),
        name=_platform_name(lti, family, issuer),
    )  # fmt: skip


def _call(
    method: str,
    url: str,
    token: str | None,
    settings: RegistrationSettings,
    *,
    what: str,
    json_body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One request to the platform; its JSON object answer, or an error in words."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    where = f"The platform's {what} ({_origin(url)})"
    try:
        with http_safety.session() as http, http.request(
            method, url, headers=headers, json=json_body, timeout=settings.timeout,
            allow_redirects=False, stream=True,
        ) as response:  # fmt: skip
            raw = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
    except http_safety.AddressRefused as exc:
        log.warning("Dynamic registration: %s refused (%s)", _origin(url), exc)
        raise RegistrationRequestError(f"{where} is refused: {exc}") from exc
    except requests.Timeout as exc:
        log.warning("Dynamic registration: %s timed out", _origin(url))
        raise PlatformTimeout(f"{where} did not answer within {settings.timeout:g} s.") from exc
    except requests.RequestException as exc:
        log.warning("Dynamic registration: %s unreachable (%s)", _origin(url), type(exc).__name__)
        raise PlatformAnswerError(f"{where} could not be reached ({type(exc).__name__}).") from exc
    if not 200 <= response.status_code < 300:
        log.warning("Dynamic registration: %s answered %s", _origin(url), response.status_code)
        raise PlatformAnswerError(f"{where} refused: {_reason(response.status_code, raw)}.")
    try:
        answer = json.loads(raw) if len(raw) <= MAX_ANSWER_BYTES else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PlatformAnswerError(f"{where} did not answer with a JSON object.")
    return answer


def _reason(status: int, raw: bytes) -> str:
    """HTTP status and the platform's own words, if it gave any."""
    meanings = {401: "the registration token was not accepted", 403: "not allowed",
                404: "not found"}  # fmt: skip
    server_error = status >= 500
    meaning = meanings.get(status, "platform error" if server_error else "refused")
    try:
        body = json.loads(raw)
        detail = body.get("error_description") or body.get("error") or ""
    except (ValueError, AttributeError):
        detail = ""
    return f"HTTP {status} ({meaning}){': ' + str(detail)[:300] if detail else ''}"


def _client_of(answer: dict[str, Any]) -> tuple[str, str | None]:
    """The client id (and deployment id, if any) the platform made for the tool."""
    client_id = answer.get("client_id")
    if isinstance(client_id, int) and not isinstance(client_id, bool):
        client_id = str(client_id)
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_ID_LENGTH:
        raise PlatformAnswerError(
            "The platform accepted the registration but gave no usable client_id, so the tool "
            "cannot recognise its launches. Remove the half-made registration in the platform "
            "and try again."
        )
    tool = answer.get(TOOL_CONFIGURATION)
    deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
    if isinstance(deployment, int) and not isinstance(deployment, bool):
        deployment = str(deployment)
    if not isinstance(deployment, str) or not deployment or len(deployment) > MAX_ID_LENGTH:
        deployment = None
    return client_id, deployment


def _text(data: dict[str, Any], name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH * 8:
        raise PlatformAnswerError(f"{where} has no {name}; the tool cannot register without it.")
    return value


def _origin(url: str) -> str:
    """scheme://host[:port], with the scheme's default port left out."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    host = (parts.hostname or "").lower()
    return f"{parts.scheme.lower()}://{host}{f':{port}' if port and port != default else ''}"


def _strings(value: Any) -> list[str] | None:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else None


def _messages(lti: dict[str, Any]) -> dict[str, list[str]] | None:
    """messages_supported as type -> placements (Moodle lists bare type names)."""
    listed = lti.get("messages_supported")
    if not isinstance(listed, list):
        return None
    messages: dict[str, list[str]] = {}
    for item in listed:
        if isinstance(item, str):
            messages[item] = []
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            messages[item["type"]] = _strings(item.get("placements")) or []
    return messages


def _platform_name(lti: dict[str, Any], family: str, issuer: str) -> str:
    account = lti.get("https://canvas.instructure.com/lti/account_name")
    where = f"{account} ({urlsplit(issuer).netloc})" if isinstance(account, str) and account else (
        urlsplit(issuer).netloc + urlsplit(issuer).path.rstrip("/"))  # fmt: skip
    return f"{family.capitalize()} {where}"[:200]
