"""The embedded platform's courses, people and memberships (fixed demo data)."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


@dataclass(frozen=True)
class DemoUser:
    """A person of the embedded platform."""

    sub: str
    given_name: str
    family_name: str
    email: str

    @property
    def name(self) -> str:
        """Full name."""
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class DemoCourse:
    """A course of the embedded platform, with who is in it and as what."""

    context_id: str
    title: str
    label: str
    members: tuple[tuple[str, str], ...]  # (sub, LTI context role)


USERS = {
    user.sub: user
    for user in (
        DemoUser("demo-mentor", "Maya", "Okafor", "maya.okafor@example.com"),
        DemoUser("demo-learner-1", "Ada", "Lindqvist", "ada.lindqvist@example.com"),
        DemoUser("demo-learner-2", "Tomás", "Reyes", "tomas.reyes@example.com"),
        DemoUser("demo-learner-3", "Priya", "Raman", "priya.raman@example.com"),
    )
}
COURSES = {
    course.context_id: course
    for course in (
        DemoCourse(
            "demo-course-1", "Customer Service Essentials", "CSE-101",
            (("demo-mentor", "Instructor"), ("demo-learner-1", "Learner"),
             ("demo-learner-2", "Learner")),
        ),
        DemoCourse(
            "demo-course-2", "Safety at Work", "SAF-201",
            (("demo-mentor", "Instructor"), ("demo-learner-2", "Learner"),
             ("demo-learner-3", "Learner")),
        ),
    )
}  # fmt: skip
CLIENT_ID = "virtual-mentor-demo"
DEPLOYMENT_ID = "demo-deployment-1"
PLATFORM_NAME = "Embedded demo platform"


def role_in(course: DemoCourse, sub: str) -> str | None:
    """The LTI role URI of ``sub`` in ``course``, if a member."""
    for member, role in course.members:
        if member == sub:
            return MEMBERSHIP + role
    return None


#: Rosters of any size for load tests: ``generated-<n>`` has n members (the first one
#: teaches). Only the names-and-roles service lists them; nobody launches as them.
GENERATED_PREFIX = "generated-"
MAX_GENERATED = 100_000


@functools.lru_cache(maxsize=4)
def generated_members(context_id: str) -> tuple[dict[str, Any], ...] | None:
    """The names-and-roles members of a generated course, or None if not one."""
    if not context_id.startswith(GENERATED_PREFIX):
        return None
    size = context_id.removeprefix(GENERATED_PREFIX)
    if not size.isdigit() or not 0 < int(size) <= MAX_GENERATED:
        return None
    return tuple(
        {"status": "Active", "user_id": f"gen-{n:06d}",
         "roles": [MEMBERSHIP + ("Instructor" if n == 1 else "Learner")],
         "name": f"Learner {n}", "given_name": "Learner", "family_name": str(n),
         "email": f"learner{n}@example.com"}
        for n in range(1, int(size) + 1)
    )  # fmt: skip


def new_client(secret: str) -> tuple[str, str]:
    """A client id the platform can recognise later, and its deployment id."""
    number = secrets.token_hex(4)
    return URLSafeSerializer(secret, salt="dev-platform-client").dumps(number), f"dynamic-{number}"


def deployment_of(client_id: str, secret: str) -> str | None:
    """The deployment of one of this platform's clients; None for a client it never made."""
    if client_id == CLIENT_ID:
        return DEPLOYMENT_ID
    try:
        number = URLSafeSerializer(secret, salt="dev-platform-client").loads(client_id)
    except BadSignature:
        return None
    return f"dynamic-{number}"
