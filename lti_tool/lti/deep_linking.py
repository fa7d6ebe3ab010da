"""Deep linking: an instructor picks what to add to the course; the platform gets it signed.

A verified LtiDeepLinkingRequest leaves its settings (return URL, accepted types, ``data``…)
in launch storage under a random id bound to the launch's platform, deployment, course and
person, so the picker page cannot change them. The response is an LtiDeepLinkingResponse
JWT signed with the tool's current key and posted by the browser to the return URL.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from lti_tool.courses.models import Role
from lti_tool.errors import Forbidden
from lti_tool.lti.errors import DeepLinkExpired, PickError
from lti_tool.lti.storage import LaunchStorage
from lti_tool.lti.tokens import LaunchContext

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS_CLAIM = DL + "deep_linking_settings"
REQUEST = "LtiDeepLinkingRequest"
RESOURCE_LINK = "ltiResourceLink"
ADDERS = (Role.INSTRUCTOR, Role.ADMIN)
MAX_NAME = 120
RESPONSE_SECONDS = 300
_KEY = "deep-link:"


@dataclass(frozen=True)
class DeepLinkSettings:
    """What the platform asked for, plus what the launch said about its course."""

    return_url: str
    deployment_id: str  # the platform's deployment id, echoed in the response
    accept_types: list[str]
    accept_presentation_document_targets: list[str]
    accept_multiple: bool
    accept_lineitem: bool | None  # None: the platform did not say
    auto_create: bool
    title: str
    text: str
    has_data: bool
    data: Any = None
    grades: bool = False  # the launch carried the grade service (AGS) for the course

    @property
    def accepts_links(self) -> bool:
        """Whether the platform takes LTI resource links (all the tool can add)."""
        return RESOURCE_LINK in self.accept_types

    @property
    def offers_grading(self) -> bool:
        """Whether a line item may be asked for: links accepted, AGS present, not refused."""
        return self.accepts_links and self.grades and self.accept_lineitem is not False


@dataclass(frozen=True)
class Pick:
    """One thing to add: the mentor panel, a check-in on a topic, or a survey."""

    kind: str  # panel | checkin | survey
    name: str = ""  # the check-in's topic or the survey's title
    graded: bool = False


def _flag(value: object) -> bool:
    return value is True or value == "true"


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def settings_from_claims(claims: dict[str, Any], *, grades: bool) -> DeepLinkSettings:
    """The deep-linking settings of a verified request (the launch checked they are there)."""
    claim = claims.get(SETTINGS_CLAIM) or {}
    lineitem = claim.get("accept_lineitem")
    return DeepLinkSettings(
        return_url=str(claim.get("deep_link_return_url") or ""),
        deployment_id=str(claims.get(LTI + "deployment_id") or ""),
        accept_types=_strings(claim.get("accept_types")),
        accept_presentation_document_targets=_strings(
            claim.get("accept_presentation_document_targets")
        ),
        accept_multiple=_flag(claim.get("accept_multiple")),
        accept_lineitem=None if lineitem is None else _flag(lineitem),
        auto_create=_flag(claim.get("auto_create")),
        title=str(claim.get("title") or "")[:MAX_NAME],
        text=str(claim.get("text") or "")[:1000],
        has_data="data" in claim,
        data=claim.get("data"),
        grades=grades,
    )


def settings_problem(claims: dict[str, Any]) -> str | None:
    """Why a request's settings cannot be answered (None when they can)."""
    claim = claims.get(SETTINGS_CLAIM)
    if not isinstance(claim, dict):
        return "Missing Deep Linking Settings"
    url = claim.get("deep_link_return_url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
        return "Missing or unusable deep_link_return_url"
    if not isinstance(claim.get("accept_types"), list):
        return "Missing accept_types"
    if not claim.get("accept_presentation_document_targets"):
        return "Must support a presentation type"
    return None


def remember(
    store: LaunchStorage, context: LaunchContext, settings: DeepLinkSettings, ttl: int
) -> str:
    """Keep the settings for the picker, bound to this launch; returns their random id."""
    if context.role not in ADDERS:
        raise Forbidden(
            "Only the course's instructors can add Virtual Mentor to it. Ask an instructor "
            "of the course to add it."
        )
    picker_id = secrets.token_urlsafe(24)
    store.put(_KEY + picker_id, {"launch": asdict(context), "settings": asdict(settings)}, ttl)
    return picker_id


def _owned(value: Any, picker_id: str, context: LaunchContext) -> DeepLinkSettings:
    if value is None or not picker_id:
        raise DeepLinkExpired(
            "This request to add Virtual Mentor has expired or was already answered. "
            "Start again from your course."
        )
    launch = value["launch"]
    if any(launch[name] != getattr(context, name) for name in
           ("registration_id", "deployment_id", "course_id", "person_id")):  # fmt: skip
        raise Forbidden("This request to add Virtual Mentor belongs to another course or person.")
    return DeepLinkSettings(**value["settings"])


def recall(store: LaunchStorage, picker_id: str, context: LaunchContext) -> DeepLinkSettings:
    """The settings behind ``picker_id``, if they belong to this launch."""
    return _owned(store.get(_KEY + picker_id) if picker_id else None, picker_id, context)


def use_up(store: LaunchStorage, picker_id: str, context: LaunchContext) -> DeepLinkSettings:
    """Like ``recall``, and the request is answered: it cannot be answered twice."""
    recall(store, picker_id, context)  # a stranger's attempt must not use it up
    return _owned(store.take(_KEY + picker_id), picker_id, context)


#: What can be added, as the picker names it.
KINDS = {
    "panel": "Mentor panel for this course",
    "checkin": "Check-in on a topic",
    "survey": "Survey",
}
_NAMED = {"checkin": ("topic", "the check-in's topic"), "survey": ("title", "the survey's title")}


def read_picks(form: dict[str, list[str]], settings: DeepLinkSettings) -> list[Pick]:
    """What the instructor chose, or a PickError saying what to change."""
    if not settings.accepts_links:
        raise PickError("Your course does not accept links to tools here, so nothing can be added.")
    kinds = form.get("kind", [])
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise PickError(f"Virtual Mentor cannot add “{unknown[0][:40]}”: pick from the list.")
    if not kinds:
        raise PickError("Pick something to add to your course.")
    if len(kinds) > 1 and not settings.accept_multiple:
        raise PickError("Your course accepts one item at a time here: pick just one.")
    picks = []
    for kind in dict.fromkeys(kinds):
        name = ""
        if kind in _NAMED:
            field_name, label = _NAMED[kind]
            name = " ".join((form.get(f"{kind}_{field_name}") or [""])[0].split())
            if not name:
                raise PickError(f"Please give {label}.")
            if len(name) > MAX_NAME:
                raise PickError(
                    f"Please shorten {label} to {MAX_NAME} characters (it has {len(name)})."
                )
        graded = settings.offers_grading and bool(form.get(f"{kind}_graded"))
        picks.append(Pick(kind, name, graded))
    return picks


def content_item(pick: Pick, settings: DeepLinkSettings, launch_url: str) -> dict[str, Any]:
    """The ltiResourceLink content item for one pick."""
    if pick.kind == "panel":
        title = settings.title or "Mentor panel"
        text = settings.text or "Your mentor's messages, questions and tips for this course."
        custom, resource = {"vm_kind": "panel"}, "panel"
    elif pick.kind == "checkin":
        title, text = f"Check-in: {pick.name}", f"Your mentor asks how {pick.name} is going."
        custom, resource = {"vm_kind": "checkin", "vm_topic": pick.name}, f"checkin:{pick.name}"
    else:
        title, text = pick.name, "A short survey from your mentor."
        custom, resource = {"vm_kind": "survey", "vm_title": pick.name}, f"survey:{pick.name}"
    item: dict[str, Any] = {
        "type": RESOURCE_LINK, "title": title, "text": text, "url": launch_url, "custom": custom,
    }  # fmt: skip
    targets = settings.accept_presentation_document_targets
    if "iframe" not in targets and "window" in targets:
        item["window"] = {"targetName": "virtual-mentor"}
    if pick.graded:
        item["lineItem"] = {
            "scoreMaximum": 1, "label": title, "resourceId": resource, "tag": "participation",
        }  # fmt: skip
    return item


def response_claims(
    settings: DeepLinkSettings, client_id: str, issuer: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """The LtiDeepLinkingResponse body (``data`` echoed exactly when the platform sent it)."""
    # Real time, not the demo clock: the platform checks iat and exp against its own.
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id, "aud": issuer, "iat": now, "exp": now + RESPONSE_SECONDS,
        "nonce": secrets.token_urlsafe(24),
        LTI + "deployment_id": settings.deployment_id,
        LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0",
        DL + "content_items": items,
    }  # fmt: skip
    if settings.has_data:
        claims[DL + "data"] = settings.data
    return claims


def sign(claims: dict[str, Any], kid: str, private_pem: str) -> str:
    """The response JWT, RS256 with the tool's current key (its kid in the header)."""
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid})
