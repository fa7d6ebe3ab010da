"""The launch token: after launch, pages are authenticated by it, not by a cookie.

It is signed with the app's secret key and short-lived; every page hands out a fresh one
(or the one it was given, if that is under a minute old: signing is a good part of a
page's cost), so a learner working in the panel stays signed in while an old token soon
stops working.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.courses.models import Role
from lti_tool.lti.errors import LaunchForbidden

_SALT = "virtual-mentor.launch-token"
#: A token younger than this is handed out again instead of a new one.
REUSE_SECONDS = 60


@dataclass(frozen=True)
class LaunchContext:
    """Who is here, in which course, through which platform and deployment."""

    registration_id: int
    deployment_id: int
    course_id: int
    person_id: int
    role: Role


@lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue(context: LaunchContext, secret_key: str) -> str:
    """A signed, timestamped token for this context."""
    return str(_serializer(secret_key).dumps(asdict(context)))


def read(token: str, secret_key: str, max_age: int) -> LaunchContext:
    """The context in a valid, unexpired token."""
    return read_with_age(token, secret_key, max_age)[0]


def renewed(token: str, secret_key: str, max_age: int) -> tuple[LaunchContext, str]:
    """The context in a valid, unexpired token, and the token its page hands out: the same
    if it is under REUSE_SECONDS old, else a new one."""
    context, age = read_with_age(token, secret_key, max_age)
    return context, token if age < REUSE_SECONDS else issue(context, secret_key)


def read_with_age(token: str, secret_key: str, max_age: int) -> tuple[LaunchContext, float]:
    """The context in a valid, unexpired token, and the token's age in seconds."""
    try:
        data, signed_at = _serializer(secret_key).loads(
            token, max_age=max_age, return_timestamp=True
        )
        return LaunchContext(
            registration_id=int(data["registration_id"]),
            deployment_id=int(data["deployment_id"]),
            course_id=int(data["course_id"]),
            person_id=int(data["person_id"]),
            role=Role(data["role"]),
        ), time.time() - signed_at.timestamp()
    except SignatureExpired as exc:
        raise LaunchForbidden(
            "Your session has expired. Open Virtual Mentor again from your course."
        ) from exc
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise LaunchForbidden(
            "This page needs a launch from your course. Open Virtual Mentor from your course."
        ) from exc
