"""Creating topics and the activities that teach them, with clear refusals."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Course
from lti_tool.errors import AppError, NotFound
from lti_tool.i18n import _
from lti_tool.lti.models import Deployment, PlatformRegistration
from lti_tool.topics.mapping import WILDCARD
from lti_tool.topics.models import Topic, TopicActivity
from xapi.validation import is_iri

MAX_PATTERN = 2048
MAX_NAME = 255


class BadTopic(AppError):
    """A topic or one of its activity patterns cannot be used as given."""

    status = 400
    title = "Bad request"


def add_topic(
    session: Session,
    registration_id: int,
    name: str,
    *,
    course_id: int | None = None,
    description: str = "",
    activities: Iterable[str] = (),
) -> Topic:
    """A new topic of the platform (of one of its courses, or of its library); committed."""
    if session.get(PlatformRegistration, registration_id) is None:
        raise NotFound(_("There is no platform registration #%(id)s.", id=registration_id))
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise BadTopic(_("A topic needs a name of 1 to %(limit)s characters.", limit=MAX_NAME))
    if course_id is not None:
        _check_course(session, registration_id, course_id)
    topic = Topic(
        registration_id=registration_id, course_id=course_id, name=name,
        description=description.strip(),
    )  # fmt: skip
    session.add(topic)
    add_activities(topic, activities)
    session.commit()
    return topic


def add_activities(topic: Topic, patterns: Iterable[str]) -> None:
    """Link activities (IRIs or patterns with ``*``) to the topic; ones it has are skipped."""
    held = {activity.pattern for activity in topic.activities}
    for given in patterns:
        pattern = check_pattern(given)
        if pattern not in held:
            topic.activities.append(TopicActivity(pattern=pattern))
            held.add(pattern)


def check_pattern(pattern: str) -> str:
    """The pattern, trimmed, or a refusal saying what is wrong with it."""
    pattern = pattern.strip()
    if not pattern:
        raise BadTopic(_("An activity pattern cannot be empty."))
    if len(pattern) > MAX_PATTERN:
        raise BadTopic(_("An activity pattern can be at most %(limit)s characters long.",
                         limit=MAX_PATTERN))  # fmt: skip
    fixed = pattern.split(WILDCARD, 1)[0]
    if ":" not in fixed or not is_iri(pattern.replace(WILDCARD, "x")):  # a scheme, then more
        raise BadTopic(_(
            "%(pattern)r is not an activity IRI: give the activity's full address, such as "
            '"https://lms.example.org/mod/page/view.php?id=7", or a pattern that starts with '
            'one and uses * for the rest, such as "https://lms.example.org/mod/quiz/*".',
            pattern=pattern[:100],
        ))  # fmt: skip
    return pattern


def _check_course(session: Session, registration_id: int, course_id: int) -> None:
    owner = session.scalar(
        select(Deployment.registration_id)
        .join(Course, Course.deployment_id == Deployment.id)
        .where(Course.id == course_id)
    )
    if owner != registration_id:
        raise NotFound(_("Course #%(course)s is not a course of registration #%(registration)s.",
                         course=course_id, registration=registration_id))  # fmt: skip
