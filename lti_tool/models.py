"""Every model, imported in one place so the metadata Alembic sees is always complete."""

from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.lti.models import (
    Deployment,
    PlatformRegistration,
    RegistrationStatus,
    ToolKey,
    ToolKeyState,
)
from lti_tool.ops.models import DemoClockOffset, JobHeartbeat

__all__ = [
    "Course",
    "DemoClockOffset",
    "Deployment",
    "Enrollment",
    "EnrollmentStatus",
    "JobHeartbeat",
    "Person",
    "PlatformRegistration",
    "RegistrationStatus",
    "Role",
    "ToolKey",
    "ToolKeyState",
]
