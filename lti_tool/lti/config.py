"""What an LMS administrator pastes to install the tool by hand (pure)."""

from __future__ import annotations

from typing import Any

#: The LTI Advantage scopes the tool asks for: the roster and the grade book.
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
TITLE = "Virtual Mentor"
DESCRIPTION = "A named mentor in the course: follow-ups on each topic, tips, questions, sessions."


def canvas_configuration(base_url: str) -> dict[str, Any]:
    """Canvas developer key JSON: the mentor tab in course navigation, and deep linking."""
    launch = f"{base_url}/lti/launch"
    host = base_url.split("://", 1)[-1].split("/", 1)[0]

    def placement(name: str, message_type: str) -> dict[str, Any]:
        return {"placement": name, "message_type": message_type, "text": "Mentor",
                "target_link_uri": launch}  # fmt: skip

    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": f"{base_url}/lti/login",
        "target_link_uri": launch,
        "public_jwk_url": f"{base_url}/lti/jwks",
        "scopes": SCOPES,
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": host,
                "tool_id": "virtual-mentor",
                # Names and email, so the mentor can greet and write to learners.
                "privacy_level": "public",
                "settings": {
                    "text": "Mentor",
                    "placements": [
                        placement("course_navigation", "LtiResourceLinkRequest"),
                        placement("link_selection", "LtiDeepLinkingRequest"),
                        placement("assignment_selection", "LtiDeepLinkingRequest"),
                    ],
                },
            }
        ],
        "custom_fields": {},
    }
