"""The launch, validated by pylti1p3 plus what pylti1p3 2.0 does not check.

Added here: the audience is verified and ``azp`` is required and checked when ``aud`` has
several values; ``iat``/``exp`` are verified with a configurable skew; the platform key
set comes from a TTL cache and is re-fetched once for an unknown ``kid``, with a timeout;
``target_link_uri`` must be the one the login asked for and point at this tool.
The nonce and state are checked by the login-state store (lti_tool.lti.login).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.message_validators.deep_link import DeepLinkMessageValidator

from lti_tool.lti import deep_linking
from lti_tool.lti.errors import LaunchError, LaunchForbidden
from lti_tool.lti.keysets import signing_key
from lti_tool.lti.storage import LaunchStorage
from lti_tool.lti.toolconf import DatabaseToolConf

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


@dataclass(frozen=True)
class LaunchSettings:
    """What a launch check needs from configuration."""

    clock_skew: int
    key_set_ttl: int
    http_timeout: float
    tool_origin: str


class _NoSessions:
    """pylti1p3 insists on session and cookie services; our state lives in launch storage."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{name}: sessions are handled by lti_tool.lti.login")


class HardenedLaunch(MessageLaunch[Any, DatabaseToolConf, Any, Any]):
    """pylti1p3's MessageLaunch with its gaps closed."""

    def __init__(
        self,
        params: dict[str, str],
        tool_conf: DatabaseToolConf,
        store: LaunchStorage,
        settings: LaunchSettings,
    ) -> None:
        super().__init__(params, tool_conf, session_service=_NoSessions(),
                         cookie_service=_NoSessions())  # fmt: skip
        self._params = params
        self._store = store
        self._settings = settings

    def _get_request_param(self, key: str) -> str:
        return self._params.get(key, "")

    def validate(self) -> HardenedLaunch:
        """Every check, in an order that spends nothing on a forged token."""
        self._validated = True
        try:
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_message()
        except LtiException as exc:
            self._validated = False
            raise LaunchForbidden(f"The launch token was refused: {exc}.") from exc
        except LaunchError:
            self._validated = False
            raise
        return self

    def validate_message(self) -> HardenedLaunch:
        """pylti1p3's claim checks, but a deep-linking request need not accept resource links.

        pylti1p3 refuses such a request outright; the picker tells the instructor instead.
        """
        body = self.claims
        if body.get(CLAIM + "message_type") != deep_linking.REQUEST:
            super().validate_message()
            return self
        DeepLinkMessageValidator().run_common_validators(body)
        problem = deep_linking.settings_problem(body)
        if problem:
            raise LtiException(problem)
        return self

    def get_client_id(self) -> str:
        """The client the token is for: ``azp`` when ``aud`` names several."""
        body = self._jwt.get("body", {})
        aud, azp = body.get("aud"), body.get("azp")
        audiences = aud if isinstance(aud, list) else [aud]
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise LaunchForbidden("The launch token has no audience (aud).")
        if len(audiences) > 1 and not azp:
            raise LaunchForbidden("The launch token has several audiences but no azp.")
        if azp is not None and azp not in audiences:
            raise LaunchForbidden("The launch token's azp is not one of its audiences.")
        return str(azp or audiences[0])

    def validate_jwt_signature(self) -> HardenedLaunch:
        """Signature, issuer, audience and times, with the configured clock skew."""
        registration = self._registration
        if registration is None:
            raise LaunchForbidden("The launch token is not from a registered platform.")
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise LaunchForbidden("The launch token must be signed with RS256.")
        key = signing_key(
            self._store, registration.get_key_set_url() or "", header.get("kid"),
            ttl=self._settings.key_set_ttl, timeout=self._settings.http_timeout,
            before_fetch=self._tool_config.release,  # no transaction across a network call
        )  # fmt: skip
        try:
            jwt.decode(
                self._get_id_token(), key, algorithms=["RS256"],
                audience=self.get_client_id(), issuer=registration.get_issuer(),
                leeway=self._settings.clock_skew,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError as exc:
            raise LaunchForbidden("The launch token has expired; launch again.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchForbidden("The launch token was issued in the future.") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchForbidden(f"The launch token was refused: {exc}.") from exc
        return self

    def validate_target_link_uri(self, requested: str) -> None:
        """The token must send the person where the login asked, on this tool."""
        target = self._jwt["body"].get(CLAIM + "target_link_uri", "")
        if target != requested:
            raise LaunchForbidden("The launch token's target_link_uri is not the one asked for.")
        if not same_origin(target, self._settings.tool_origin):
            raise LaunchForbidden("The launch token's target_link_uri is not on this tool.")

    @property
    def claims(self) -> dict[str, Any]:
        """The verified id_token body."""
        return dict(self._jwt.get("body", {}))


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def same_origin(url: str, origin: str) -> bool:
    """Whether ``url`` is on ``origin`` (scheme, host and port)."""
    return origin_of(url) == origin_of(origin)
