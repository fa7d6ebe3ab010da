"""LTI roles to what a person may do here: learner, instructor, mentor or admin (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from lti_tool.courses.models import Role

_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_CONTEXT_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

#: Context (course) roles, by their short name.
_CONTEXT_ROLES = {
    "Administrator": Role.INSTRUCTOR,  # a course administrator runs the course
    "ContentDeveloper": Role.INSTRUCTOR,
    "Instructor": Role.INSTRUCTOR,
    "TeachingAssistant": Role.INSTRUCTOR,
    "Manager": Role.INSTRUCTOR,
    "Mentor": Role.MENTOR,
    "Learner": Role.LEARNER,
    "Member": Role.LEARNER,
}
_INSTITUTION_ROLES = {
    "Administrator": Role.ADMIN,
    "Faculty": Role.INSTRUCTOR,
    "Instructor": Role.INSTRUCTOR,
    "Mentor": Role.MENTOR,
    "Staff": Role.LEARNER,
    "Student": Role.LEARNER,
    "Learner": Role.LEARNER,
}
_SYSTEM_ROLES = {"Administrator": Role.ADMIN, "SysAdmin": Role.ADMIN}
_RANK = {Role.LEARNER: 0, Role.MENTOR: 1, Role.INSTRUCTOR: 2, Role.ADMIN: 3}


def map_roles(uris: Iterable[object]) -> Role:
    """The role for a launch's ``roles`` claim.

    Course roles decide; institution roles only when there is no course role; a system
    administrator is an admin everywhere. Unknown or missing roles give the least: learner.
    """
    context, institution, system = [], [], []
    for uri in uris:
        if not isinstance(uri, str):
            continue
        if uri.startswith(_SYSTEM):
            system.append(_SYSTEM_ROLES.get(uri.removeprefix(_SYSTEM)))
        elif uri.startswith(_INSTITUTION):
            institution.append(_INSTITUTION_ROLES.get(uri.removeprefix(_INSTITUTION)))
        elif uri.startswith(_CONTEXT):
            context.append(_CONTEXT_ROLES.get(uri.removeprefix(_CONTEXT)))
        elif uri.startswith(_CONTEXT_SUB):  # e.g. membership/Instructor#TeachingAssistant
            context.append(_CONTEXT_ROLES.get(uri.removeprefix(_CONTEXT_SUB).split("#")[0]))
        else:  # short names ("Instructor") are allowed in LTI 1.3 for context roles
            context.append(_CONTEXT_ROLES.get(uri))
    if Role.ADMIN in system:
        return Role.ADMIN
    for found in (context, institution):
        known = [role for role in found if role is not None]
        if known:
            return max(known, key=_RANK.__getitem__)
    return Role.LEARNER
