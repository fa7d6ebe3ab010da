"""Completions from the Canvas REST API (``Authorization: Bearer``, JSON, Link-header pages).

Canvas's LTI 1.3 context id is the course's ``lti_context_id`` and the LTI ``sub`` the
user's ``lti_id``; the API finds both by prefix (``courses/lti_context_id:…``,
``users/lti_1_3_id:…``: Canvas's "Object IDs" page). Module progress is asked for with
``student_id``, which takes Canvas's numeric user id only, so each learner's is looked up
once and kept (``people.lms_user_id``). The learners are the course's learners the tool
knows from its roster (names and roles): Canvas's user listings do not show the LTI 1.3
``sub``.

What one course costs per poll: the course (1 call); per learner, the modules with their
items (a call per 100 modules, and one per module whose items Canvas leaves out) and the
course progress (1); and once per learner ever, the id lookup: about 1 + 2 x learners.

Activity ids are Canvas's own pages: ``{site}/courses/{id}/modules/items/{item}``,
``{site}/courses/{id}/modules/{module}`` and ``{site}/courses/{id}``. Canvas does not say
when a module item was completed: such an event is dated when the tool read it, and is
recorded once per learner and item.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lti_tool.lms.http import LmsError, LmsHttp, LmsRefused
from lti_tool.lms.readers import (
    COMPLETED,
    Completion,
    CourseToRead,
    LearnerCompletions,
    whole_id,
)
from xapi.times import parse_instant

API = "/api/v1"
PER_PAGE = 100


@dataclass
class CanvasClient:
    """Calls to one Canvas with one API token (in ``http``'s headers)."""

    http: LmsHttp

    def get(self, path: str) -> Any:
        """The JSON at an API path."""
        return self.http.get(self.http.base_url + API + path).body

    def listing(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every object of a paged API listing."""
        for page in self.http.pages(self.http.base_url + API + path, params):
            if not isinstance(page, list):
                raise LmsError(
                    f"Canvas's answer to {path.split('?', maxsplit=1)[0]} is not a list."
                )
            yield from (thing for thing in page if isinstance(thing, dict))


def read_course(client: CanvasClient, course: CourseToRead) -> Iterator[LearnerCompletions]:
    """Each known learner's module item, module and course completions in the course."""
    course_id = canvas_course_id(client, course.context_id)
    asking_progress = True
    for learner in course.learners:
        known_id = learner.lms_user_id
        user_id = known_id or canvas_user_id(client, course_id, learner.subject)
        if user_id is None:
            continue  # not (or no longer) in the Canvas course
        found = module_completions(client, course, course_id, user_id)
        if asking_progress:
            try:
                found += course_progress(client, course, course_id, user_id)
            except LmsRefused as exc:
                if exc.status != 400:
                    raise
                asking_progress = False  # the course uses no module requirements
        new_id = user_id if known_id is None else None
        yield LearnerCompletions(subject=learner.subject, completions=found, lms_user_id=new_id)


def canvas_course_id(client: CanvasClient, context_id: str) -> int:
    """Canvas's id of the course whose LTI context id this is."""
    try:
        body = client.get(f"/courses/lti_context_id:{quote(context_id, safe='')}")
    except LmsRefused as exc:
        if exc.status != 404:
            raise
        raise LmsError(
            "Canvas has no course with this course's LTI context id; is the connection's "
            "address the Canvas this course lives on?"
        ) from None
    if not isinstance(body, dict) or not whole_id(body.get("id")):
        raise LmsError("Canvas's answer about the course has no course id.")
    return int(body["id"])


def canvas_user_id(client: CanvasClient, course_id: int, subject: str) -> str | None:
    """Canvas's id of the course's user whose LTI 1.3 ``sub`` this is; None if not there."""
    try:
        body = client.get(f"/courses/{course_id}/users/lti_1_3_id:{quote(subject, safe='')}")
    except LmsRefused as exc:
        if exc.status == 404:
            return None
        raise
    return str(body["id"]) if isinstance(body, dict) and whole_id(body.get("id")) else None


def module_completions(
    client: CanvasClient, course: CourseToRead, course_id: int, user_id: str
) -> list[Completion]:
    """The learner's completed module items and modules."""
    found = []
    params = {"include[]": "items", "student_id": user_id, "per_page": PER_PAGE}
    for module in client.listing(f"/courses/{course_id}/modules", params):
        if not whole_id(module.get("id")):
            continue
        items = module.get("items")
        if not isinstance(items, list):  # too many for Canvas to give inline
            items = list(client.listing(f"/courses/{course_id}/modules/{module['id']}/items",
                                        {"student_id": user_id, "per_page": PER_PAGE}))  # fmt: skip
        where = _Where(client.http.base_url, course.registration_id, course_id, user_id)
        found += [where.item(module, item) for item in items if _completed(item)]
        if module.get("state") == "completed":
            found.append(where.module(module))
    return found


@dataclass(frozen=True)
class _Where:
    """One learner in one course: what their completions are called and keyed by."""

    site: str
    registration_id: int
    course_id: int
    user_id: str

    def item(self, module: dict[str, Any], item: dict[str, Any]) -> Completion:
        """A module item whose completion requirement the learner met (Canvas gives no time)."""
        key = f"canvas:{self.registration_id}:{self.course_id}:item:{item['id']}:{self.user_id}"
        return Completion(
            key=key, verb=COMPLETED,
            activity_id=f"{self.site}/courses/{self.course_id}/modules/items/{item['id']}",
            activity_name=str(item.get("title") or ""), success=None, occurred_at=None,
            raw={"module_id": module["id"], "item": item},
        )  # fmt: skip

    def module(self, module: dict[str, Any]) -> Completion:
        """A module the learner completed."""
        key = f"canvas:{self.registration_id}:{self.course_id}:module:{module['id']}:{self.user_id}"
        return Completion(
            key=key, verb=COMPLETED,
            activity_id=f"{self.site}/courses/{self.course_id}/modules/{module['id']}",
            activity_name=str(module.get("name") or ""), success=None,
            occurred_at=parse_instant(module.get("completed_at")),
            raw={"module": {k: v for k, v in module.items() if k != "items"}},
        )  # fmt: skip


def _completed(item: Any) -> bool:
    requirement = item.get("completion_requirement") if isinstance(item, dict) else None
    return (
        isinstance(requirement, dict)
        and requirement.get("completed") is True
        and whole_id(item.get("id"))
    )


def course_progress(
    client: CanvasClient, course: CourseToRead, course_id: int, user_id: str
) -> list[Completion]:
    """The learner's course completion, once Canvas says every requirement is met."""
    progress = client.get(f"/courses/{course_id}/users/{user_id}/progress")
    if not isinstance(progress, dict):
        raise LmsError("Canvas's answer about a learner's course progress is not an object.")
    completed_at = parse_instant(progress.get("completed_at"))
    if completed_at is None:
        return []
    return [
        Completion(
            key=f"canvas:{course.registration_id}:{course_id}:course:{user_id}", verb=COMPLETED,
            activity_id=f"{client.http.base_url}/courses/{course_id}", activity_name="",
            success=None, occurred_at=completed_at, raw={"progress": progress},
        )
    ]  # fmt: skip
