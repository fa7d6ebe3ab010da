"""Completions from Moodle's web services (REST protocol, JSON answers).

Every call is a POST to ``/webservice/rest/server.php`` with the token in the form body.
Moodle's LTI 1.3 context id is its course id, and the LTI ``sub`` its user id, so no
mapping is needed. Moodle answers a refusal with HTTP 200 and
``{"exception": …, "errorcode": …, "message": …}``; each is told in words.

What one course costs per poll: ``core_enrol_get_enrolled_users`` (a call per 500
learners; only those Moodle tracks for completion), ``core_course_get_contents`` once (the
activities' names), then per learner ``core_completion_get_activities_completion_status``
and ``core_completion_get_course_completion_status`` (the latter no more once Moodle says
the course has no completion criteria): about 2 + 2 x learners calls.

Activity ids are the IRIs Moodle's own xAPI logstore uses
(``{site}/mod/{modname}/view.php?id={cmid}``, ``{site}/course/view.php?id={course}``),
so one topic mapping serves statements and completions alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lti_tool.lms.http import LmsError, LmsHttp
from lti_tool.lms.readers import (
    COMPLETED,
    FAILED,
    PASSED,
    Completion,
    CourseToRead,
    LearnerCompletions,
    from_epoch,
    whole_id,
)

SERVER = "/webservice/rest/server.php"
ENROLLED_USERS = "core_enrol_get_enrolled_users"
CONTENTS = "core_course_get_contents"
ACTIVITIES = "core_completion_get_activities_completion_status"
COURSE = "core_completion_get_course_completion_status"
#: The web service functions the token's service must include.
FUNCTIONS = (ENROLLED_USERS, CONTENTS, ACTIVITIES, COURSE)
#: Learners are the users Moodle shows in completion reports.
TRACKED = "moodle/course:isincompletionreports"
USERS_PER_CALL = 500
#: Activity states (core_completion): 1 complete, 2 complete and passed, 3 complete and failed.
_OUTCOME = {1: None, 2: True, 3: False}
#: Refusals about one learner (not enrolled, in a group the token's user cannot see).
_LEARNER_REFUSALS = {"usernotenroled", "notenroled", "accessdenied"}
_MEANING = {
    "invalidtoken": "Moodle did not accept the token (wrong, expired or deleted); make a "
    "new one and add the connection again",
    "accessexception": "the token's web service does not include {function}, or its user "
    "may not use it (Site administration > Server > Web services > External services)",
    "nopermissions": "the token's user lacks a capability {function} needs: {message}",
    "requireloginerror": "the token's user cannot enter Moodle course {course}",
    "invalidrecord": "Moodle has no course {course} (was it deleted?)",
    "completionnotenabled": "completion tracking is off on this Moodle site or course",
    "cannotviewreport": "the token's user may not see completion in course {course}, or "
    "completion tracking is off there (Course settings > Completion tracking)",
}


class MoodleError(LmsError):
    """Moodle refused a web service call; ``errorcode`` is Moodle's own."""

    def __init__(self, message: str, errorcode: str) -> None:
        super().__init__(message)
        #: Moodle's error code, e.g. invalidtoken.
        self.errorcode = errorcode


@dataclass
class MoodleClient:
    """Web service calls to one Moodle site with one token."""

    http: LmsHttp
    token: str

    def call(self, function: str, **params: Any) -> Any:
        """Call a web service function; a Moodle exception becomes a ``MoodleError``."""
        form = {"wstoken": self.token, "wsfunction": function, "moodlewsrestformat": "json",
                **form_fields(params)}  # fmt: skip
        body = self.http.post(self.http.base_url + SERVER, form).body
        if isinstance(body, dict) and "exception" in body:
            code = str(body.get("errorcode") or "")
            raise MoodleError(explain(function, body, params.get("courseid")), code)
        return body


def form_fields(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Parameters as Moodle's REST server reads them: ``options[0][name]=…``."""
    fields: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            fields.update(form_fields(value, name))
        elif isinstance(value, list):
            fields.update(form_fields({str(i): v for i, v in enumerate(value)}, name))
        else:
            fields[name] = str(int(value) if isinstance(value, bool) else value)
    return fields


def explain(function: str, body: Mapping[str, Any], course: Any) -> str:
    """Moodle's refusal in a sentence for the administrator."""
    code = str(body.get("errorcode") or "")
    message = str(body.get("message") or "").strip()[:300]
    meaning = _MEANING.get(code, "{message}").format(
        function=function, course=course, message=message or code
    )
    return f"Moodle refused {function}: {meaning} ({code or 'no error code'})."


def read_course(client: MoodleClient, course: CourseToRead) -> Iterator[LearnerCompletions]:
    """Each learner's activity and course completions in the course."""
    if not course.context_id.isdigit():
        raise LmsError(
            f"The course's LTI context id ({course.context_id[:80]}) is not a Moodle course id; "
            "is this course on the Moodle of the connection?"
        )
    course_id = int(course.context_id)
    names = activity_names(client, course_id)
    asking_course = True
    for user_id in learners(client, course_id):
        try:
            found = activity_completions(client, course, user_id, names)
        except MoodleError as exc:
            if exc.errorcode in _LEARNER_REFUSALS:
                continue
            raise
        if asking_course:
            try:
                found += course_completion(client, course, user_id)
            except MoodleError as exc:
                if exc.errorcode not in {"nocriteriaset", *_LEARNER_REFUSALS}:
                    raise
                asking_course = exc.errorcode != "nocriteriaset"  # no criteria: ask no more
        yield LearnerCompletions(subject=str(user_id), completions=found)


def learners(client: MoodleClient, course_id: int) -> Iterator[int]:
    """The ids of the users Moodle tracks for completion in the course, page by page."""
    start = 0
    while True:
        options = {"withcapability": TRACKED, "userfields": "id",
                   "limitfrom": start, "limitnumber": USERS_PER_CALL}  # fmt: skip
        listed = [{"name": name, "value": value} for name, value in options.items()]
        users = client.call(ENROLLED_USERS, courseid=course_id, options=listed)
        if not isinstance(users, list):
            raise LmsError(f"Moodle's answer to {ENROLLED_USERS} is not a list of users.")
        yield from (u["id"] for u in users
                    if isinstance(u, dict) and whole_id(u.get("id")))  # fmt: skip
        if len(users) < USERS_PER_CALL:
            return
        start += USERS_PER_CALL


def activity_names(client: MoodleClient, course_id: int) -> dict[int, str]:
    """Each course module's name, by its id (cmid)."""
    options = [{"name": "excludecontents", "value": 1}]
    sections = client.call(CONTENTS, courseid=course_id, options=options)
    if not isinstance(sections, list):
        raise LmsError(f"Moodle's answer to {CONTENTS} is not a list of course sections.")
    return {
        module["id"]: str(module.get("name") or "")
        for section in sections
        if isinstance(section, dict)
        for module in section.get("modules") or []
        if isinstance(module, dict) and whole_id(module.get("id"))
    }


def activity_completions(
    client: MoodleClient, course: CourseToRead, user_id: int, names: Mapping[int, str]
) -> list[Completion]:
    """The learner's completed activities: completed, and passed or failed where Moodle says."""
    course_id = int(course.context_id)
    body = client.call(ACTIVITIES, courseid=course_id, userid=user_id)
    statuses = body.get("statuses") if isinstance(body, dict) else None
    if not isinstance(statuses, list):
        raise LmsError(f"Moodle's answer to {ACTIVITIES} has no list of statuses.")
    site = client.http.base_url
    found = []
    for status in statuses:
        if not isinstance(status, dict) or status.get("state") not in _OUTCOME:
            continue  # incomplete (0), or not an activity status
        cmid, modname = status.get("cmid"), str(status.get("modname") or "")
        if not isinstance(cmid, int) or not whole_id(cmid) or not modname.isidentifier():
            continue
        success = _OUTCOME[status["state"]]
        time = int(status.get("timecompleted") or 0)
        key = f"moodle:{course.registration_id}:{course_id}:{cmid}:{user_id}:{time}"
        verbs = [COMPLETED] if success is None else [COMPLETED, PASSED if success else FAILED]
        found += [
            Completion(key=f"{key}:{verb.rsplit('/', 1)[1]}", verb=verb,
                       activity_id=f"{site}/mod/{modname}/view.php?id={cmid}",
                       activity_name=names.get(cmid, ""), success=success,
                       occurred_at=from_epoch(time), raw={"status": status})
            for verb in verbs
        ]  # fmt: skip
    return found


def course_completion(client: MoodleClient, course: CourseToRead, user_id: int) -> list[Completion]:
    """The learner's course completion, if Moodle says the course is complete.

    Moodle does not return when the course was completed; the latest of its criteria's
    completion times stands for it.
    """
    course_id = int(course.context_id)
    body = client.call(COURSE, courseid=course_id, userid=user_id)
    status = body.get("completionstatus") if isinstance(body, dict) else None
    if not isinstance(status, dict):
        raise LmsError(f"Moodle's answer to {COURSE} has no completion status.")
    if status.get("completed") is not True:
        return []
    times = [c.get("timecompleted") for c in status.get("completions") or []
             if isinstance(c, dict)]  # fmt: skip
    moments = [m for t in times if (m := from_epoch(t)) is not None]
    return [
        Completion(
            key=f"moodle:{course.registration_id}:{course_id}:course:{user_id}", verb=COMPLETED,
            activity_id=f"{client.http.base_url}/course/view.php?id={course_id}",
            activity_name="", success=None, occurred_at=max(moments, default=None),
            raw={"completionstatus": status},
        )
    ]  # fmt: skip
