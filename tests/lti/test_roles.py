"""LTI roles map to learner, instructor, mentor or admin (pure)."""

from __future__ import annotations

import pytest

from lti_tool.courses.models import Role
from lti_tool.lti.roles import map_roles

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
I = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"  # noqa: E741
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([M + "Learner"], Role.LEARNER),
        ([M + "Instructor"], Role.INSTRUCTOR),
        (
            ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
            Role.INSTRUCTOR,
        ),
        ([M + "ContentDeveloper"], Role.INSTRUCTOR),
        ([M + "Administrator"], Role.INSTRUCTOR),  # runs the course, not the tool
        ([M + "Mentor"], Role.MENTOR),
        (["Instructor"], Role.INSTRUCTOR),  # short names
        (["Learner"], Role.LEARNER),
        ([M + "Learner", M + "Instructor"], Role.INSTRUCTOR),  # the highest course role
        ([I + "Administrator", M + "Learner"], Role.LEARNER),  # the course role decides
        ([I + "Administrator"], Role.ADMIN),  # no course role: the institution's
        ([I + "Faculty", S + "User"], Role.INSTRUCTOR),
        ([S + "Administrator", M + "Learner"], Role.ADMIN),  # system admins everywhere
        ([S + "SysAdmin"], Role.ADMIN),
        ([], Role.LEARNER),
        (["http://example.com/custom#Wizard"], Role.LEARNER),  # unknown: the least
        ([42, None], Role.LEARNER),  # junk from a platform
    ],
)
def test_role_mapping(roles: list[object], expected: Role) -> None:
    assert map_roles(roles) is expected
