"""What an LMS needs to know about the tool: its URLs, scopes and messages (pure).

One source for the Canvas developer key JSON, the dynamic registration request and the
manual setup page, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
#: The LTI Advantage scopes the tool asks for: the roster and the grade book.
SCOPES = [NRPS_SCOPE, *AGS_SCOPES]
TITLE = "Virtual Mentor"
DESCRIPTION = "A named mentor in the course: follow-ups on each topic, tips, questions, sessions."
LABEL = "Mentor"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
#: Personal claims the tool asks for: names to greet learners, email to write to them.
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email", "locale", "picture"]
#: Canvas placements (other platforms have no placement names the tool can ask for).
CANVAS_PLACEMENTS = {
    RESOURCE_LINK: ["course_navigation"],
    DEEP_LINKING: ["link_selection", "assignment_selection"],
}
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"


@dataclass(frozen=True)
class ToolUrls:
    """The tool's public URLs, from its own origin (e.g. https://mentor.example.org)."""

    origin: str

    @property
    def host(self) -> str:
        """The tool's domain, as LMSs match launch URLs against it."""
        return urlsplit(self.origin).netloc

    @property
    def login(self) -> str:
        """Third-party initiated login (OIDC)."""
        return f"{self.origin}/lti/login"

    @property
    def launch(self) -> str:
        """Redirect URI and target of every message, deep linking included."""
        return f"{self.origin}/lti/launch"

    @property
    def jwks(self) -> str:
        """The tool's public keys."""
        return f"{self.origin}/lti/jwks"

    @property
    def canvas_json(self) -> str:
        """The Canvas developer key JSON."""
        return f"{self.origin}/lti/config/canvas.json"

    @property
    def dynamic_registration(self) -> str:
        """Where a platform starts LTI Dynamic Registration."""
        return f"{self.origin}/lti/register"


def canvas_configuration(base_url: str) -> dict[str, Any]:
    """Canvas developer key JSON: the mentor tab in course navigation, and deep linking."""
    urls = ToolUrls(base_url)

    def placement(name: str, message_type: str) -> dict[str, Any]:
        return {"placement": name, "message_type": message_type, "text": LABEL,
                "target_link_uri": urls.launch}  # fmt: skip

    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": SCOPES,
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urls.host,
                "tool_id": "virtual-mentor",
                # Names and email, so the mentor can greet and write to learners.
                "privacy_level": "public",
                "settings": {
                    "text": LABEL,
                    "placements": [
                        placement(name, message_type)
                        for message_type, names in CANVAS_PLACEMENTS.items()
                        for name in names
                    ],
                },
            }
        ],
        "custom_fields": {},
    }


@dataclass(frozen=True)
class PlatformOffer:
    """What a platform says it supports (None: it did not say, so the tool assumes all)."""

    product_family: str
    #: Message type -> the placements the platform lists for it (empty: none named).
    messages: dict[str, list[str]] | None = None
    scopes: Collection[str] | None = None


def client_registration(base_url: str, offer: PlatformOffer) -> dict[str, Any]:
    """The LTI Dynamic Registration request body (OpenID client registration + LTI config)."""
    urls = ToolUrls(base_url)
    scopes = [s for s in SCOPES if offer.scopes is None or s in offer.scopes]
    tool: dict[str, Any] = {
        "domain": urls.host,
        "target_link_uri": urls.launch,
        "description": DESCRIPTION,
        "claims": CLAIMS,
        "messages": _messages(urls, offer),
    }
    if offer.product_family == "canvas":
        tool[CANVAS_PRIVACY_LEVEL] = "public"
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": TITLE,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: tool,
    }


def _messages(urls: ToolUrls, offer: PlatformOffer) -> list[dict[str, Any]]:
    """The tool's messages the platform supports, with Canvas placements it offers."""
    messages = []
    for message_type in (RESOURCE_LINK, DEEP_LINKING):
        if offer.messages is not None and message_type not in offer.messages:
            continue
        message: dict[str, Any] = {
            "type": message_type, "target_link_uri": urls.launch, "label": LABEL,
        }  # fmt: skip
        if offer.product_family == "canvas":
            offered = offer.messages.get(message_type) if offer.messages else None
            wanted = CANVAS_PLACEMENTS[message_type]
            message["placements"] = [p for p in wanted if not offered or p in offered]
        messages.append(message)
    return messages
