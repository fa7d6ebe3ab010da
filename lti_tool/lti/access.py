"""Pages after launch: who is asking, checked against the database on every request.

The launch token names platform, deployment, course and person; each request checks they
still belong together and are active, so nothing is reachable across them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from flask import current_app, g, request
from sqlalchemy import Table, bindparam, select

from lti_tool.courses.models import (
    Course,
    Enrollment,
    EnrollmentStatus,
    Person,
    Role,
    display_name,
)
from lti_tool.database import autocommit
from lti_tool.errors import Forbidden
from lti_tool.extensions import db
from lti_tool.i18n import _
from lti_tool.lti import tokens
from lti_tool.lti.errors import LaunchForbidden
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus

TOKEN_PARAM = "lt"  # noqa: S105 (the name of a query parameter, not a secret)


@dataclass(frozen=True)
class CourseInfo:
    """The launch's course, as read when the request began."""

    id: int
    context_id: str
    title: str
    label: str

    @property
    def name(self) -> str:
        """The title, or the label if the platform sent no title."""
        return self.title or self.label or "this course"


@dataclass(frozen=True)
class PersonInfo:
    """The person launching, with only the personal data the platform sent."""

    id: int
    name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    locale: str | None
    time_zone: str | None

    @property
    def display_name(self) -> str:
        """The best name we have for this person."""
        return display_name(self.name, self.given_name, self.family_name)


@dataclass(frozen=True)
class Launch:
    """The verified launch behind the current request (values, not live database rows)."""

    context: tokens.LaunchContext
    platform_name: str
    course: CourseInfo
    person: PersonInfo
    token: str  # a fresh token for the links and forms of the page
    #: The course's and the enrollment's panel versions (``courses.freshness``).
    panel_versions: tuple[int, int] = (0, 0)


_r, _d, _c, _p, _e = (
    cast(Table, m.__table__) for m in (PlatformRegistration, Deployment, Course, Person, Enrollment)
)
# Core, and built once: every page of the tool runs it, and building the statement or
# loading five ORM objects took longer than the query itself.
_COLUMNS = (
    _r.c.name, _r.c.status, _d.c.status, _e.c.status,
    _c.c.id, _c.c.context_id, _c.c.title, _c.c.label,
    _p.c.id, _p.c.name, _p.c.given_name, _p.c.family_name, _p.c.email, _p.c.locale,
    _p.c.time_zone, _e.c.role, _c.c.panel_version, _e.c.panel_version,
)  # fmt: skip
_LAUNCH_ROWS = (
    select(*_COLUMNS)
    .join(_d, _d.c.registration_id == _r.c.id)
    .join(_c, _c.c.deployment_id == _d.c.id)
    .join(_e, _e.c.course_id == _c.c.id)
    .join(_p, _p.c.id == _e.c.person_id)
    .where(
        _r.c.id == bindparam("registration_id"),
        _d.c.id == bindparam("deployment_id"),
        _c.c.id == bindparam("course_id"),
        _p.c.id == bindparam("person_id"),
        _p.c.registration_id == _r.c.id,
    )
)


def _token_from_request() -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.form.get(TOKEN_PARAM) or request.args.get(TOKEN_PARAM) or ""


def load_launch(token: str) -> Launch:
    """Verify the token and that its platform, deployment, course and person belong together."""
    config = current_app.config
    context, fresh = tokens.renewed(token, config["SECRET_KEY"], config["LTI_LAUNCH_TOKEN_SECONDS"])
    session = db.session()
    with autocommit(session):  # one read; the page may go on to write in its own transaction
        row = session.execute(_LAUNCH_ROWS, {
            "registration_id": context.registration_id, "deployment_id": context.deployment_id,
            "course_id": context.course_id, "person_id": context.person_id,
        }).first()  # fmt: skip
    if row is None:
        raise LaunchForbidden(_("This launch no longer matches your course. Open it again."))
    active = RegistrationStatus.ACTIVE
    if row[1] is not active or row[2] is not active or row[3] is not EnrollmentStatus.ACTIVE:
        raise LaunchForbidden(_("Your access to this course has ended."))
    if row[15] is not context.role:  # e.g. a roster read made an instructor a learner
        raise LaunchForbidden(
            _(
                "Your role in this course has changed since you opened the tool. Open it again "
                "from the course."
            )
        )
    return Launch(
        context, row[0], CourseInfo(*row[4:8]), PersonInfo(*row[8:15]), fresh, (row[16], row[17])
    )


def launch_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a valid launch token (and one of ``roles`` if given); sets ``g.launch``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.launch = load_launch(_token_from_request())
            if roles and g.launch.context.role not in roles:
                raise Forbidden(_("This page is for mentors and instructors of the course."))
            return view(*args, **kwargs)

        return wrapper

    return decorate
