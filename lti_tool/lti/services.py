"""After a verified launch: the deployment gate, then course, person and enrollment upserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person
from lti_tool.database import upsert
from lti_tool.lti.errors import AwaitingApproval, LaunchError
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus
from lti_tool.lti.roles import map_roles
from lti_tool.lti.tokens import LaunchContext

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
#: Personal data claims we keep, and the column each goes to; only those the platform sends.
_PERSON_CLAIMS = {
    "name": "name", "given_name": "given_name", "family_name": "family_name",
    "email": "email", "locale": "locale", "picture": "picture_url",
}  # fmt: skip


def resolve_deployment(
    session: Session, registration: PlatformRegistration, deployment_id: str
) -> Deployment:
    """The active deployment; an unknown one is recorded as pending (or auto-activated)."""
    if not deployment_id:
        raise LaunchError("The launch does not say which deployment of the tool it is for.")
    # A launch's registration arrives with its deployments loaded (DatabaseToolConf).
    deployment = next(
        (d for d in registration.deployments if d.deployment_id == deployment_id), None
    )
    if deployment is None:
        status = (
            RegistrationStatus.ACTIVE
            if registration.auto_activate_deployments
            else RegistrationStatus.PENDING
        )
        deployment = Deployment(
            registration=registration, deployment_id=deployment_id, status=status
        )
        session.add(deployment)
        session.commit()
    if deployment.status is RegistrationStatus.PENDING:
        raise AwaitingApproval(
            f"This placement of Virtual Mentor in {registration.name} (deployment "
            f"{deployment_id}) is new and waits for an administrator to approve it."
        )
    if deployment.status is RegistrationStatus.DISABLED:
        raise LaunchError(f"Virtual Mentor has been switched off for deployment {deployment_id}.")
    return deployment


def service_endpoints(claims: dict[str, Any]) -> dict[str, Any]:
    """The course's LTI Advantage endpoints in a launch (only those it carries)."""
    found: dict[str, Any] = {}
    nrps = claims.get(NRPS_CLAIM)
    if isinstance(nrps, dict) and isinstance(nrps.get("context_memberships_url"), str):
        found["memberships_url"] = nrps["context_memberships_url"]
    ags = claims.get(AGS_CLAIM)
    if isinstance(ags, dict):
        if isinstance(ags.get("lineitems"), str):
            found["lineitems_url"] = ags["lineitems"]
        scopes = ags.get("scope")
        if isinstance(scopes, list):
            found["ags_scopes"] = [s for s in scopes if isinstance(s, str)]
    return found


def record_launch(
    session: Session, registration: PlatformRegistration, claims: dict[str, Any]
) -> LaunchContext:
    """Upsert the course, person and enrollment of a verified resource-link launch."""
    message_type = claims.get(CLAIM + "message_type")
    if message_type != "LtiResourceLinkRequest":
        raise LaunchError(f"Virtual Mentor cannot open a {message_type} launch yet.")
    deployment = resolve_deployment(session, registration, claims.get(CLAIM + "deployment_id", ""))
    context = claims.get(CLAIM + "context") or {}
    if not isinstance(context, dict) or not context.get("id"):
        raise LaunchError("Virtual Mentor works inside a course: launch it from a course page.")
    now = clock.now()
    course_id = upsert(
        session, Course,
        {"deployment_id": deployment.id, "context_id": str(context["id"])[:255],
         "title": str(context.get("title") or "")[:500],
         "label": str(context.get("label") or "")[:255], "updated_at": now,
         **service_endpoints(claims)},
        keys=["deployment_id", "context_id"], returning=Course.id,
    )  # fmt: skip
    personal = {
        column: str(claims[claim])[:320]
        for claim, column in _PERSON_CLAIMS.items()
        if isinstance(claims.get(claim), str) and claims[claim]
    }
    person_id = upsert(
        session, Person,
        {"registration_id": registration.id, "subject": str(claims["sub"])[:255],
         "last_launch_at": now, "updated_at": now, **personal},
        keys=["registration_id", "subject"], returning=Person.id,
    )  # fmt: skip
    roles = [r for r in claims.get(CLAIM + "roles") or [] if isinstance(r, str)]
    role = map_roles(roles)
    upsert(
        session, Enrollment,
        {"course_id": course_id, "person_id": person_id, "role": role, "lti_roles": roles,
         "status": EnrollmentStatus.ACTIVE, "updated_at": now},
        keys=["course_id", "person_id"],
    )  # fmt: skip
    session.commit()
    return LaunchContext(registration.id, deployment.id, course_id, person_id, role)
