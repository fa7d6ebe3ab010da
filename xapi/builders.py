"""Statements about what learners do in the mentor, built with ``tincan``: one function per
learner action, each giving a statement with a stable id, ready for ``xapi.outbox.emit``.

Who: the learner as an ``account`` (homePage = the origin of the platform's issuer, name =
the LTI ``sub``), as Moodle's logstore names learners and as ``xapi.normalise`` resolves
them back, with their name when the platform shared it. What: an Activity under the tool's
own address (``{tool}/xapi/activities/{kind}/{id}``) with a name and an ADL type. Where:
``context`` names the platform "Virtual Mentor", the statement's language, and the course as
the parent activity (Moodle's course page when the platform is Moodle, else the tool's IRI
for the course). Extensions are keyed by IRIs under ``{tool}/xapi/extensions/``.

Vocabulary, and why:
- asked a question: ``http://adlnet.gov/expapi/verbs/asked``, object of type question;
- answered a check-in question: ``…/verbs/answered``, ``result.response`` the answer
  ("yes", "not yet", "need help");
- responded to a survey: ``…/verbs/responded``, ``result.response`` the answer, object of
  type ``http://id.tincanapi.com/activitytype/survey`` (the xAPI registry's; ADL has none);
- RSVP'd to a session: ``…/verbs/registered`` when going or maybe, the registry's
  ``http://id.tincanapi.com/verb/unregistered`` when not going, ``result.response`` the
  answer either way, so an LRS counting "registered" counts only those who come;
- attended a session: ``…/verbs/attended``, object of type meeting;
- opened a resource: ``http://activitystrea.ms/schema/1.0/open``, not ADL's "experienced":
  the tool knows the learner opened it, not that they watched or read it.

``tincan`` serialises only xAPI 1.0.x. The statements use nothing that differs in 2.0.0
(timestamps carry their offset, no ``contextAgents``), and ``version`` is left for the LRS to
set as both versions recommend, so one body serves LRSs of either version (the tests check
every builder's output with ``xapi.validation`` under both).

Each statement's id is ``statement_id(tool, registration, kind, natural key)``, a UUID 5 in
the installation's namespace: the same happening always gets the same id, so emitting it
twice writes one outbox row and an LRS given it twice keeps one statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    LanguageMap,
    Result,
    Statement,
    Verb,
)

from lti_tool.courses.models import Course, Person
from lti_tool.events.services import origin
from lti_tool.lti.models import PlatformRegistration
from xapi.times import timestamp

PLATFORM = "Virtual Mentor"
ADL = "http://adlnet.gov/expapi"
#: Activity types.
QUESTION = f"{ADL}/activities/question"
SURVEY = "http://id.tincanapi.com/activitytype/survey"
MEETING = f"{ADL}/activities/meeting"
LINK = f"{ADL}/activities/link"
MEDIA = f"{ADL}/activities/media"
FILE = f"{ADL}/activities/file"
COURSE = f"{ADL}/activities/course"
#: Verbs: IRI and display.
ASKED = (f"{ADL}/verbs/asked", "asked")
ANSWERED = (f"{ADL}/verbs/answered", "answered")
RESPONDED = (f"{ADL}/verbs/responded", "responded")
REGISTERED = (f"{ADL}/verbs/registered", "registered")
UNREGISTERED = ("http://id.tincanapi.com/verb/unregistered", "unregistered")
ATTENDED = (f"{ADL}/verbs/attended", "attended")
OPENED = ("http://activitystrea.ms/schema/1.0/open", "opened")


def namespace(tool_url: str) -> uuid.UUID:
    """The namespace of one installation's statement ids: its address, so two installations
    sending to one LRS never make the same id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{tool_url.rstrip('/')}/xapi/statements")


def statement_id(tool_url: str, registration_id: int, kind: str, key: str) -> str:
    """The id of a happening: the same registration, kind and natural key, the same UUID."""
    return str(uuid.uuid5(namespace(tool_url), f"{registration_id}:{kind}:{key}"))


@dataclass(frozen=True)
class Scene:
    """What every statement of one learner in one course shares: who, where, in which tool."""

    #: The tool's public address; activity ids live under it.
    tool_url: str
    registration_id: int
    #: The platform's issuer (its origin is the learner's account homePage).
    issuer: str
    #: The learner's LTI ``sub`` (the account name).
    subject: str
    #: The learner's name, if the platform shared it.
    name: str | None
    course_id: int
    course_title: str
    #: The course's page on the platform, when it is known (Moodle's ``/course/view.php``).
    course_url: str | None = None
    #: The statement's language (RFC 5646).
    language: str = "en"

    @classmethod
    def of(
        cls, tool_url: str, registration: PlatformRegistration, person: Person, course: Course,
        language: str | None = None,
    ) -> Scene:  # fmt: skip
        """The scene of a person in a course of a registration, as the tool knows them."""
        moodle = (registration.product_family or "").lower() == "moodle"
        url = f"{registration.issuer.rstrip('/')}/course/view.php?id={course.context_id}"
        return cls(
            tool_url=tool_url.rstrip("/"), registration_id=registration.id,
            issuer=registration.issuer, subject=person.subject, name=person.name,
            course_id=course.id, course_title=course.title or course.label or "Course",
            course_url=url if moodle and course.context_id.isdigit() else None,
            language=language or person.locale or "en",
        )  # fmt: skip


class Rsvp(StrEnum):
    """A learner's answer to a session invitation."""

    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not going"
    #: Asked to go, but the session was full: on its waiting list.
    WAITLISTED = "waitlisted"


def asked_question(scene: Scene, *, question_id: int, text: str, at: datetime) -> dict[str, Any]:
    """The learner asked their mentor a question (``question_id``: the thread it opened)."""
    activity = _activity(scene, "question", question_id, text, QUESTION)
    return _statement(scene, "asked", str(question_id), verb=ASKED, activity=activity, at=at)


def answered_check_in(
    scene: Scene, *, delivery_id: int, answer_id: int, question: str, answer: str, at: datetime
) -> dict[str, Any]:
    """The learner answered a check-in question delivered to them ("yes", "not yet", …)."""
    activity = _activity(scene, "check-in", delivery_id, question, QUESTION)
    return _statement(scene, "answered-check-in", f"{delivery_id}:{answer_id}", verb=ANSWERED,
                      activity=activity, at=at, result=Result(response=answer),
                      extensions={"delivery": delivery_id})  # fmt: skip


def responded_to_survey(
    scene: Scene, *, survey_id: int, response_id: int, title: str, answer: str, at: datetime
) -> dict[str, Any]:
    """The learner responded to a survey (``answer`` as they gave it, e.g. "4 of 5")."""
    activity = _activity(scene, "survey", survey_id, title, SURVEY)
    return _statement(scene, "responded-to-survey", f"{survey_id}:{response_id}",
                      verb=RESPONDED, activity=activity, at=at,
                      result=Result(response=answer))  # fmt: skip


def rsvped(
    scene: Scene, *, session_id: int, rsvp_id: int, title: str, answer: Rsvp, at: datetime
) -> dict[str, Any]:
    """The learner answered an invitation to a session; each change of mind is an RSVP of its
    own, told apart by its instant (to the millisecond)."""
    verb = UNREGISTERED if answer == Rsvp.NOT_GOING else REGISTERED
    activity = _activity(scene, "session", session_id, title, MEETING)
    key = f"{session_id}:{rsvp_id}:{answer.value}:{timestamp(at)}"
    return _statement(scene, "rsvp", key, verb=verb, activity=activity, at=at,
                      result=Result(response=str(answer)))  # fmt: skip


def attended(
    scene: Scene, *, session_id: int, title: str, at: datetime,
    duration: timedelta | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The learner attended a session (once per learner and session)."""
    activity = _activity(scene, "session", session_id, title, MEETING)
    result = Result(duration=duration) if duration is not None else None
    return _statement(scene, "attended", f"{session_id}:{scene.subject}", verb=ATTENDED,
                      activity=activity, at=at, result=result)  # fmt: skip


def opened_resource(
    scene: Scene, *, resource_id: int, title: str, url: str, at: datetime,
    activity_type: str = LINK,
) -> dict[str, Any]:  # fmt: skip
    """The learner opened a resource (a video, webinar, whitepaper) the mentor pointed to.

    Every opening is a happening of its own, told apart by its instant (to the millisecond).
    """
    activity = _activity(scene, "resource", resource_id, title, activity_type, more_info=url)
    key = f"{resource_id}:{scene.subject}:{timestamp(at)}"
    return _statement(scene, "opened-resource", key, verb=OPENED, activity=activity, at=at)


def _activity(
    scene: Scene, kind: str, number: int, name: str, type_iri: str, *, more_info: str | None = None
) -> Activity:
    definition = ActivityDefinition(
        name=LanguageMap({scene.language: name[:500] or kind}), type=type_iri, more_info=more_info
    )
    return Activity(id=f"{scene.tool_url}/xapi/activities/{kind}/{number}", definition=definition)


def _statement(
    scene: Scene, kind: str, key: str, *, verb: tuple[str, str], activity: Activity,
    at: datetime, result: Result | None = None, extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The statement as JSON-ready data: tincan's 1.0.3 form, without ``version``, with our
    own rendering of the timestamp (UTC, milliseconds)."""
    account = AgentAccount(home_page=origin(scene.issuer), name=scene.subject)
    statement = Statement(
        id=statement_id(scene.tool_url, scene.registration_id, kind, key),
        actor=Agent(name=scene.name or None, account=account),
        verb=Verb(id=verb[0], display=LanguageMap({"en": verb[1]})),
        object=activity, result=result, context=_context(scene, extensions or {}),
    )  # fmt: skip
    body: dict[str, Any] = statement.as_version("1.0.3")
    body.pop("version", None)  # the LRS sets it (xAPI Data 2.4.10)
    body["timestamp"] = timestamp(at)
    return body


def _context(scene: Scene, extensions: dict[str, Any]) -> Context:
    course = Activity(
        id=scene.course_url or f"{scene.tool_url}/xapi/activities/course/{scene.course_id}",
        definition=ActivityDefinition(
            name=LanguageMap({scene.language: scene.course_title[:500]}), type=COURSE
        ),
    )
    named = {f"{scene.tool_url}/xapi/extensions/{name}": value
             for name, value in extensions.items()}  # fmt: skip
    return Context(
        platform=PLATFORM, language=scene.language,
        context_activities=ContextActivities(parent=[course]),
        extensions=Extensions(named) if named else None,
    )  # fmt: skip
