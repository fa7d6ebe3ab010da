"""The launch token: after launch, pages are authenticated by it, not by a cookie.

It is signed with the app's secret key and short-lived; every page hands out a fresh one,
so a learner working in the panel stays signed in while an old token soon stops working.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.courses.models import Role
from lti_tool.lti.errors import LaunchForbidden

_SALT = "virtual-mentor.launch-token"


@dataclass(frozen=True)
class LaunchContext:
    """Who is here, in which course, through which platform and deployment."""

    registration_id: int
    deployment_id: int
    course_id: int
    person_id: int
    role: Role


def issue(context: LaunchContext, secret_key: str) -> str:
    """A signed, timestamped token for this context."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(asdict(context))


def read(token: str, secret_key: str, max_age: int) -> LaunchContext:
    """The context in a valid, unexpired token."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    try:
        data = serializer.loads(token, max_age=max_age)
        return LaunchContext(
            registration_id=int(data["registration_id"]),
            deployment_id=int(data["deployment_id"]),
            course_id=int(data["course_id"]),
            person_id=int(data["person_id"]),
            role=Role(data["role"]),
        )
    except SignatureExpired as exc:
        raise LaunchForbidden(
            "Your session has expired. Open Virtual Mentor again from your course."
        ) from exc
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise LaunchForbidden(
            "This page needs a launch from your course. Open Virtual Mentor from your course."
        ) from exc
