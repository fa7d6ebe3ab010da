"""Every model, imported in one place so the metadata Alembic sees is always complete."""

from lti_tool.console.models import MentorSnippet
from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person, Role
from lti_tool.courses.syncs import CourseSync, SyncKind, SyncStatus
from lti_tool.devplatform.models import DevDeepLink, DevLineItem, DevPlatformKey, DevScore
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.lms.models import LmsConnection, LmsKind
from lti_tool.lti.models import (
    Deployment,
    PlatformRegistration,
    RegistrationStatus,
    StoredValue,
    ToolKey,
    ToolKeyState,
)
from lti_tool.mentoring.channels.models import ChannelCopy, CopyStatus, WebhookEndpoint
from lti_tool.mentoring.models import (
    Delivery,
    DeliveryStatus,
    Journey,
    JourneyStatus,
    LearnerPreference,
    Message,
    MessageKind,
    Response,
    RuleAction,
    Sequence,
    Step,
    TriggerKind,
    TriggerRule,
)
from lti_tool.mentors.models import (
    Channel,
    MentoringAgreement,
    MentorProfile,
    Mentorship,
    PairedBy,
    SectionMentor,
)
from lti_tool.ops.models import DemoClockOffset, JobHeartbeat
from lti_tool.threads.models import AuthorRole, Post, Thread, ThreadStatus
from lti_tool.topics.models import Topic, TopicActivity
from xapi.models import LrsPurpose, LrsSource, OutboxStatement, Statement, XapiCredential

__all__ = [
    "AuthorRole",
    "Channel",
    "ChannelCopy",
    "CopyStatus",
    "Course",
    "CourseSync",
    "Delivery",
    "DeliveryStatus",
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
    "Journey",
    "JourneyStatus",
    "LearnerPreference",
    "LearningEvent",
    "LmsConnection",
    "LmsKind",
    "LrsPurpose",
    "LrsSource",
    "MentorProfile",
    "MentorSnippet",
    "MentoringAgreement",
    "Mentorship",
    "Message",
    "MessageKind",
    "OutboxStatement",
    "PairedBy",
    "Person",
    "PlatformRegistration",
    "Post",
    "RegistrationStatus",
    "Response",
    "Role",
    "RuleAction",
    "SectionMentor",
    "Sequence",
    "Statement",
    "Step",
    "StoredValue",
    "SyncKind",
    "SyncStatus",
    "Thread",
    "ThreadStatus",
    "ToolKey",
    "ToolKeyState",
    "Topic",
    "TopicActivity",
    "TriggerKind",
    "TriggerRule",
    "WebhookEndpoint",
    "XapiCredential",
]
