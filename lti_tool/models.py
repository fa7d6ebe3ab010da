"""Every model, imported in one place so the metadata Alembic sees is always complete."""

from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.devplatform.models import DevDeepLink, DevLineItem, DevPlatformKey, DevScore
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.lti.models import (
    Deployment,
    PlatformRegistration,
    RegistrationStatus,
    StoredValue,
    ToolKey,
    ToolKeyState,
)
from lti_tool.ops.models import DemoClockOffset, JobHeartbeat
from xapi.models import LrsSource, Statement, XapiCredential

__all__ = [
    "Course",
    "CourseSync",
    "DemoClockOffset",
    "Deployment",
    "DevDeepLink",
    "DevLineItem",
    "DevPlatformKey",
    "DevScore",
    "Enrollment",
    "EnrollmentStatus",
    "EventSource",
    "JobHeartbeat",
    "LearningEvent",
    "LrsSource",
    "Person",
    "PlatformRegistration",
    "RegistrationStatus",
    "Role",
    "Statement",
    "StoredValue",
    "SyncKind",
    "SyncStatus",
    "ToolKey",
    "ToolKeyState",
    "XapiCredential",
]
