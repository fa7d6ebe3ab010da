"""Every model, imported in one place so the metadata Alembic sees is always complete."""

from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.devplatform.models import DevDeepLink, DevLineItem, DevPlatformKey, DevScore
from lti_tool.lti.models import (
    Deployment,
    PlatformRegistration,
    RegistrationStatus,
    StoredValue,
    ToolKey,
    ToolKeyState,
)
from lti_tool.ops.models import DemoClockOffset, JobHeartbeat
from lti_tool.roster.models import RosterSync, SyncStatus

__all__ = [
    "Course",
    "DemoClockOffset",
    "Deployment",
    "DevDeepLink",
    "DevLineItem",
    "DevPlatformKey",
    "DevScore",
    "Enrollment",
    "EnrollmentStatus",
    "JobHeartbeat",
    "Person",
    "PlatformRegistration",
    "RegistrationStatus",
    "Role",
    "RosterSync",
    "StoredValue",
    "SyncStatus",
    "ToolKey",
    "ToolKeyState",
]
