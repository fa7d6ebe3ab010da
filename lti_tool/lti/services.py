"""After a verified launch: the deployment gate, then course, person and enrollment upserts."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Table, bindparam, literal_column, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from lti_tool import clock
from lti_tool.courses import sync_jobs
from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.courses.syncs import SyncKind
from lti_tool.database import upsert, upsert_statement, with_defaults
from lti_tool.events import services as events
from lti_tool.grades.services import can_read
from lti_tool.lti.errors import AwaitingApproval, LaunchError
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus
from lti_tool.lti.roles import map_roles
from lti_tool.lti.tokens import LaunchContext

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LIS_CLAIM = CLAIM + "lis"
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


def launch_section(claims: dict[str, Any]) -> dict[str, str]:
    """The enrollment's section from the LIS claim, when the launch names one. It rides in the
    enrollment's upsert (no query of its own); a launch without it keeps the one we had."""
    lis = claims.get(LIS_CLAIM)
    section = lis.get("course_section_sourcedid") if isinstance(lis, dict) else None
    return (
        {"section": section.strip()[:255]} if isinstance(section, str) and section.strip() else {}
    )


def record_launch(
    session: Session, registration: PlatformRegistration, claims: dict[str, Any]
) -> LaunchContext:
    """Upsert the course, person and enrollment of a verified launch.

    Resource-link and deep-linking requests both carry the course (context) and the person.
    """
    message_type = claims.get(CLAIM + "message_type")
    if message_type not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
        raise LaunchError(f"Virtual Mentor cannot open a {message_type} launch yet.")
    deployment = resolve_deployment(session, registration, claims.get(CLAIM + "deployment_id", ""))
    context = claims.get(CLAIM + "context") or {}
    if not isinstance(context, dict) or not context.get("id"):
        raise LaunchError("Virtual Mentor works inside a course: launch it from a course page.")
    now = clock.now()
    course = {
        "deployment_id": deployment.id, "context_id": str(context["id"])[:255],
        "title": str(context.get("title") or "")[:500],
        "label": str(context.get("label") or "")[:255], "updated_at": now,
        **service_endpoints(claims),
    }  # fmt: skip
    personal = {
        column: str(claims[claim])[:320]
        for claim, column in _PERSON_CLAIMS.items()
        if isinstance(claims.get(claim), str) and claims[claim]
    }
    person = {
        "registration_id": registration.id, "subject": str(claims["sub"])[:255],
        "last_launch_at": now, "updated_at": now, **personal,
    }  # fmt: skip
    roles = [r for r in claims.get(CLAIM + "roles") or [] if isinstance(r, str)]
    role = map_roles(roles)
    enrollment = {
        "role": role,
        "lti_roles": roles,
        "status": EnrollmentStatus.ACTIVE,
        "updated_at": now,
        **launch_section(claims),
    }
    if session.get_bind().dialect.name == "postgresql":
        course_id, person_id, first = _upsert_in_one_statement(session, course, person, enrollment)
    else:
        course_id = upsert(session, Course, course, _COURSE_KEYS, returning=Course.id)
        person_id = upsert(session, Person, person, _PERSON_KEYS, returning=Person.id)
        enrollment.update(course_id=course_id, person_id=person_id)
        upsert(session, Enrollment, enrollment, keys=["course_id", "person_id"])
        first = True  # recording the joining is idempotent: let it find out
    if first and role is Role.LEARNER:  # welcome rules start from this (and from rosters)
        events.record(session, events.joined(
            registration.id, course_id, [person_id], at=now, how="first launch",
        ))  # fmt: skip
    if role is not Role.LEARNER:  # the roster and grades, read before anyone asks
        if course.get("memberships_url"):
            sync_jobs.request_first(session, course_id, SyncKind.ROSTER)
        if course.get("lineitems_url") and can_read(course.get("ags_scopes", [])):
            sync_jobs.request_first(session, course_id, SyncKind.GRADES)
    session.commit()
    return LaunchContext(registration.id, deployment.id, course_id, person_id, role)


_COURSE_KEYS, _PERSON_KEYS = ["deployment_id", "context_id"], ["registration_id", "subject"]


def _upsert_in_one_statement(
    session: Session, course: dict[str, Any], person: dict[str, Any], enrollment: dict[str, Any]
) -> tuple[int, int, bool]:
    """Course, person and enrollment upserted by one PostgreSQL statement (one round trip);
    (course id, person id, whether the enrollment is new).

    The course and person upserts are data-modifying common table expressions whose ids
    feed the enrollment's; the statement is atomic on its own.
    """
    statement = _launch_statement(tuple(course), tuple(person), tuple(enrollment))
    parameters = {
        **with_defaults(Course, course, "c_"),
        **with_defaults(Person, person, "p_"),
        **with_defaults(Enrollment, enrollment, "e_"),
    }
    row = session.execute(statement, parameters).one()
    return int(row[0]), int(row[1]), bool(row[2])


@functools.cache
def _launch_statement(
    course: tuple[str, ...], person: tuple[str, ...], enrollment: tuple[str, ...]
) -> Any:
    """WITH c AS (upsert course), p AS (upsert person) upsert enrollment FROM c, p."""
    course_cte = upsert_statement(
        Course, "postgresql", course, tuple(_COURSE_KEYS), "id", prefix="c_"
    ).cte("launch_course")
    person_cte = upsert_statement(
        Person, "postgresql", person, tuple(_PERSON_KEYS), "id", prefix="p_"
    ).cte("launch_person")
    table = cast(Table, Enrollment.__table__)
    names = [*enrollment, *(c.name for c in table.columns if c.default is not None)]
    names = list(dict.fromkeys(n for n in names if n not in ("course_id", "person_id")))
    source = select(
        course_cte.c.id,
        person_cte.c.id,
        *(bindparam("e_" + name, type_=table.c[name].type) for name in names),
    ).select_from(course_cte.join(person_cte, true()))  # one row each: no product to fear
    statement = postgresql.insert(table).from_select(["course_id", "person_id", *names], source)
    statement = statement.on_conflict_do_update(
        index_elements=["course_id", "person_id"],
        set_={name: statement.excluded[name] for name in enrollment},
    )
    # xmax is 0 on a row this statement inserted, and set on one it updated.
    return statement.returning(table.c.course_id, table.c.person_id, literal_column("xmax = 0"))
