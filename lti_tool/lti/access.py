"""Pages after launch: who is asking, checked against the database on every request.

The launch token names platform, deployment, course and person; each request checks they
still belong together and are active, so nothing is reachable across them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, g, request
from sqlalchemy import select

from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.errors import Forbidden
from lti_tool.extensions import db
from lti_tool.lti import tokens
from lti_tool.lti.errors import LaunchForbidden
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus

TOKEN_PARAM = "lt"  # noqa: S105 (the name of a query parameter, not a secret)


@dataclass(frozen=True)
class Launch:
    """The verified launch behind the current request."""

    context: tokens.LaunchContext
    registration: PlatformRegistration
    course: Course
    person: Person
    token: str  # a fresh token for the links and forms of the page


def _token_from_request() -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.form.get(TOKEN_PARAM) or request.args.get(TOKEN_PARAM) or ""


def load_launch(token: str) -> Launch:
    """Verify the token and that its platform, deployment, course and person belong together."""
    config = current_app.config
    context = tokens.read(token, config["SECRET_KEY"], config["LTI_LAUNCH_TOKEN_SECONDS"])
    row = db.session.execute(
        select(PlatformRegistration, Deployment, Course, Person, Enrollment)
        .join(Deployment, Deployment.registration_id == PlatformRegistration.id)
        .join(Course, Course.deployment_id == Deployment.id)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(
            PlatformRegistration.id == context.registration_id,
            Deployment.id == context.deployment_id,
            Course.id == context.course_id,
            Person.id == context.person_id,
            Person.registration_id == PlatformRegistration.id,
        )
    ).first()
    if row is None:
        raise LaunchForbidden("This launch no longer matches your course. Open it again.")
    registration, deployment, course, person, enrollment = row
    active = RegistrationStatus.ACTIVE
    if (
        registration.status is not active
        or deployment.status is not active
        or enrollment.status is not EnrollmentStatus.ACTIVE
    ):
        raise LaunchForbidden("Your access to this course has ended.")
    fresh = tokens.issue(context, config["SECRET_KEY"])
    return Launch(context, registration, course, person, fresh)


def launch_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a valid launch token (and one of ``roles`` if given); sets ``g.launch``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.launch = load_launch(_token_from_request())
            if roles and g.launch.context.role not in roles:
                raise Forbidden("This page is for mentors and instructors of the course.")
            return view(*args, **kwargs)

        return wrapper

    return decorate
