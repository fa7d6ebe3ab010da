"""The embedded platform's LTI Advantage services: OAuth2 client credentials, names and
roles, assignment and grade services, and the deep-linking return.

Tokens from the tool are verified with the tool's own published keys, as an LMS does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.devplatform.directory import (
    COURSES,
    DEPLOYMENT_ID,
    USERS,
    deployment_of,
    generated_members,
    role_in,
)
from lti_tool.devplatform.models import DevDeepLink, DevLineItem, DevScore
from lti_tool.lti.keys import published_keys
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.storage import LaunchStorage

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, LINEITEM_READ = AGS + "lineitem", AGS + "lineitem.readonly"
RESULT_READ, SCORE = AGS + "result.readonly", AGS + "score"
SCOPES = frozenset({NRPS_SCOPE, LINEITEM, LINEITEM_READ, RESULT_READ, SCORE})
TOKEN_SECONDS = 3600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


@dataclass
class ServiceError(Exception):
    """An OAuth2 or service error, answered as JSON with this status."""

    status: int
    error: str
    description: str


def _tool_key(session: Session, token: str) -> jwt.PyJWK:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.DecodeError as exc:
        raise ServiceError(400, "invalid_client", "The assertion is not a JWT.") from exc
    for key in published_keys(session):
        if key["kid"] == kid:
            return jwt.PyJWK(key)
    raise ServiceError(400, "invalid_client", f"The tool publishes no key with kid {kid!r}.")


def issue_token(
    session: Session, store: LaunchStorage, form: dict[str, str], token_url: str, secret: str
) -> dict[str, Any]:
    """Client credentials grant with a JWT assertion signed by the tool (RFC 7523)."""
    if form.get("grant_type") != "client_credentials":
        raise ServiceError(400, "unsupported_grant_type", "Only client_credentials is offered.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise ServiceError(400, "invalid_request", "client_assertion_type must be jwt-bearer.")
    assertion = form.get("client_assertion", "")
    try:
        claims = jwt.decode(
            assertion, _tool_key(session, assertion), algorithms=["RS256"], audience=token_url,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]}, leeway=60,
        )  # fmt: skip
    except jwt.InvalidTokenError as exc:
        raise ServiceError(400, "invalid_client", f"The assertion was refused: {exc}.") from exc
    # Its built-in client, or one it registered dynamically (their client ids are signed).
    if claims["iss"] != claims["sub"] or deployment_of(claims["iss"], secret) is None:
        raise ServiceError(400, "invalid_client", "The assertion is not from this client.")
    if store.get(f"dev-jti:{claims['jti']}") is not None:
        raise ServiceError(400, "invalid_client", "The assertion's jti was already used.")
    store.put(f"dev-jti:{claims['jti']}", 1, 600)
    scopes = sorted(set(form.get("scope", "").split()))
    if not scopes or not set(scopes) <= SCOPES:
        raise ServiceError(400, "invalid_scope", "Ask for LTI Advantage scopes only.")
    access = URLSafeTimedSerializer(secret, salt="dev-platform-access").dumps({"scopes": scopes})
    return {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
            "scope": " ".join(scopes)}  # fmt: skip


def require_scope(authorization: str, secret: str, *accepted: str) -> None:
    """The bearer token must be ours, unexpired, and carry one of ``accepted``."""
    token = authorization.removeprefix("Bearer ").strip()
    serializer = URLSafeTimedSerializer(secret, salt="dev-platform-access")
    try:
        scopes = serializer.loads(token, max_age=TOKEN_SECONDS)["scopes"]
    except (BadSignature, SignatureExpired, KeyError, TypeError) as exc:
        raise ServiceError(401, "invalid_token", "A valid bearer access token is needed.") from exc
    if not set(scopes) & set(accepted):
        raise ServiceError(403, "insufficient_scope", f"This needs the scope {accepted[0]}.")


def page_of(items: list[Any], limit: int, page: int) -> tuple[list[Any], bool]:
    """One page of ``items`` and whether more follow."""
    start = (page - 1) * limit
    return items[start : start + limit], start + limit < len(items)


def memberships(context_id: str) -> list[dict[str, Any]]:
    """The course's members in names-and-roles shape."""
    generated = generated_members(context_id)
    if generated is not None:
        return list(generated)
    course = _course(context_id)
    return [
        {"status": "Active", "user_id": sub, "roles": [role_in(course, sub)],
         "name": USERS[sub].name, "given_name": USERS[sub].given_name,
         "family_name": USERS[sub].family_name, "email": USERS[sub].email}
        for sub, _role in course.members
    ]  # fmt: skip


def _member_ids(context_id: str) -> set[str]:
    """The user ids of the course's members (a generated course's too); 404 if no course."""
    generated = generated_members(context_id)
    if generated is not None:
        return {member["user_id"] for member in generated}
    return {sub for sub, _role in _course(context_id).members}


def _course(context_id: str) -> Any:
    if context_id not in COURSES:
        raise ServiceError(404, "not_found", f"No course {context_id}.")
    return COURSES[context_id]


def line_item_json(item: DevLineItem, base: str) -> dict[str, Any]:
    """A line item as AGS shows it."""
    body: dict[str, Any] = {
        "id": f"{base}/dev-platform/ags/{item.context_id}/lineitems/{item.id}",
        "label": item.label, "scoreMaximum": item.score_maximum,
    }  # fmt: skip
    if item.resource_id:
        body["resourceId"] = item.resource_id
    if item.tag:
        body["tag"] = item.tag
    return body


def create_line_item(session: Session, context_id: str, body: dict[str, Any]) -> DevLineItem:
    """POST lineitems: label and a positive scoreMaximum are required."""
    _member_ids(context_id)
    label, maximum = body.get("label"), body.get("scoreMaximum")
    if not isinstance(label, str) or not label:
        raise ServiceError(400, "invalid_request", "label is required.")
    if not isinstance(maximum, int | float) or isinstance(maximum, bool) or maximum <= 0:
        raise ServiceError(400, "invalid_request", "scoreMaximum must be a number above 0.")
    item = DevLineItem(context_id=context_id, label=label, score_maximum=float(maximum),
                       resource_id=body.get("resourceId"), tag=body.get("tag"))  # fmt: skip
    session.add(item)
    session.commit()
    return item


def line_item(session: Session, context_id: str, item_id: int) -> DevLineItem:
    """One line item of the course."""
    item = session.get(DevLineItem, item_id)
    if item is None or item.context_id != context_id:
        raise ServiceError(404, "not_found", f"No line item {item_id} in {context_id}.")
    return item


def record_score(session: Session, item: DevLineItem, body: dict[str, Any]) -> None:
    """POST scores: AGS Score with the required progress fields."""
    user_id = body.get("userId")
    if user_id not in _member_ids(item.context_id):
        raise ServiceError(400, "invalid_request", "userId is not a member of the course.")
    if body.get("activityProgress") not in PROGRESS or body.get("gradingProgress") not in GRADING:
        raise ServiceError(
            400, "invalid_request", "activityProgress and gradingProgress are required."
        )
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None and (not isinstance(maximum, int | float) or given < 0):
        raise ServiceError(400, "invalid_request", "scoreGiven needs scoreMaximum, and is >= 0.")
    session.add(DevScore(
        line_item_id=item.id, user_id=user_id, score_given=given, score_maximum=maximum,
        activity_progress=body["activityProgress"], grading_progress=body["gradingProgress"],
        timestamp=clock.now(),
    ))  # fmt: skip
    session.commit()


def results(session: Session, item: DevLineItem, base: str) -> list[dict[str, Any]]:
    """The latest score of each user on the line item, as AGS results."""
    latest = (
        select(DevScore.user_id, func.max(DevScore.id).label("id"))
        .where(DevScore.line_item_id == item.id)
        .group_by(DevScore.user_id)
        .subquery()
    )
    scores = session.scalars(select(DevScore).join(latest, DevScore.id == latest.c.id)).all()
    item_url = line_item_json(item, base)["id"]
    return [
        {"id": f"{item_url}/results/{score.user_id}", "scoreOf": item_url,
         "userId": score.user_id, "resultScore": score.score_given,
         "resultMaximum": score.score_maximum or item.score_maximum}
        for score in sorted(scores, key=lambda s: s.user_id)
    ]  # fmt: skip


def accept_deep_link(session: Session, response_jwt: str, issuer: str, secret: str) -> list[Any]:
    """Verify the tool's LtiDeepLinkingResponse and keep its content items."""
    try:
        claims = jwt.decode(
            response_jwt, _tool_key(session, response_jwt), algorithms=["RS256"],
            audience=issuer, options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
        )  # fmt: skip
    except jwt.InvalidTokenError as exc:
        raise ServiceError(
            400, "invalid_request", f"The deep-linking response was refused: {exc}."
        ) from exc
    if deployment_of(str(claims["iss"]), secret) is None:
        raise ServiceError(
            400, "invalid_request", "The deep-linking response is not from this tool."
        )
    if claims.get(CLAIM + "message_type") != "LtiDeepLinkingResponse":
        raise ServiceError(400, "invalid_request", "That is not an LtiDeepLinkingResponse.")
    if claims.get(CLAIM + "deployment_id") != DEPLOYMENT_ID:
        raise ServiceError(400, "invalid_request", "The deployment_id is not this platform's.")
    try:
        data = URLSafeTimedSerializer(secret, salt="dev-platform-dl").loads(
            claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data", ""), max_age=3600
        )
    except (BadSignature, SignatureExpired) as exc:
        raise ServiceError(
            400, "invalid_request", "The data claim was not echoed back intact."
        ) from exc
    items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items") or []
    for item in items:
        session.add(DevDeepLink(context_id=data["course"], item=item))
    session.commit()
    return list(items)
