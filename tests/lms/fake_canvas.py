"""A fake Canvas on 127.0.0.1: the REST API calls the completion reader makes, with
``Authorization: Bearer``, lti_context_id / lti_1_3_id lookups and Link-header pages."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

TOKEN = "7~canvas-token-0123456789abcdef-that-must-never-show"


@dataclass
class FakeCanvas:
    """A Canvas course ``course_id`` (LTI context ``context_id``) with modules and students."""

    course_id: int = 101
    context_id: str = "4dde05e8ca1973bcca9bffc13e1548820eee93a3"
    #: LTI 1.3 sub -> Canvas user id, for the course's students.
    students: dict[str, int] = field(default_factory=dict)
    #: Modules: {"id", "name", "items": [{"id", "title", "type"}], "inline": bool}.
    modules: list[dict[str, Any]] = field(default_factory=list)
    #: (Canvas user id, item id) pairs whose completion requirement is met.
    done_items: set[tuple[int, int]] = field(default_factory=set)
    #: (Canvas user id, module id) -> completed_at.
    done_modules: dict[tuple[int, int], str] = field(default_factory=dict)
    #: Canvas user id -> the course's completed_at.
    done_courses: dict[int, str] = field(default_factory=dict)
    #: Modules per page (Canvas's per_page is honoured up to this).
    page_size: int = 100
    #: A URL to send as the next page instead of the real one.
    next_url: str | None = None
    #: (status, body, headers) answers to give instead, one per request, first first.
    answers: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    hang: float = 0.0
    requests: list[str] = field(default_factory=list)
    #: Conversations started (POST /api/v1/conversations), as form fields (lists kept).
    conversations: list[dict[str, list[str]]] = field(default_factory=list)
    url: str = ""
    app: Flask = field(default_factory=lambda: Flask("fake-canvas"))
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        rules = {
            "/api/v1/courses/<course>": self.course,
            "/api/v1/courses/<int:course>/users/<user>": self.user,
            "/api/v1/courses/<int:course>/modules": self.list_modules,
            "/api/v1/courses/<int:course>/modules/<int:module>/items": self.items,
            "/api/v1/courses/<int:course>/users/<int:user>/progress": self.progress,
        }
        for rule, view in rules.items():
            self.app.add_url_rule(rule, view_func=view)
        self.app.add_url_rule("/api/v1/conversations", view_func=self.converse, methods=["POST"])
        self.app.before_request(self.check)

    def check(self) -> Response | None:
        self.requests.append(request.full_path.rstrip("?"))
        if self.hang:
            self.released.wait(self.hang)
        if self.answers:
            status, body, headers = self.answers.pop(0)
            return Response(body, status=status, headers=headers, mimetype="application/json")
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            body = json.dumps({"errors": [{"message": "Invalid access token."}]})
            return Response(body, status=401, mimetype="application/json",
                            headers={"WWW-Authenticate": 'Bearer realm="canvas-lms"'})  # fmt: skip
        return None

    def converse(self) -> Response:
        form = request.form.to_dict(flat=False)
        if not all(r.isdigit() for r in form.get("recipients[]", [])):
            invalid = {"attribute": "recipients", "type": "invalid", "message": "invalid recipient"}
            return _json({"errors": {"recipients": [invalid]}}, 400)
        self.conversations.append(form)
        return _json([{"id": len(self.conversations), "subject": form["subject"][0],
                       "workflow_state": "read", "participants": []}], 201)  # fmt: skip

    def course(self, course: str) -> Response:
        if course not in (f"lti_context_id:{self.context_id}", str(self.course_id)):
            return _json({"errors": [{"message": "The specified resource does not exist."}]}, 404)
        return _json(
            {"id": self.course_id, "name": "Safety at work", "workflow_state": "available"}
        )

    def user(self, course: int, user: str) -> Response:
        sub = user.removeprefix("lti_1_3_id:")
        if course != self.course_id or sub not in self.students:
            return _json({"errors": [{"message": "The specified resource does not exist."}]}, 404)
        return _json({"id": self.students[sub], "name": f"Student {sub}", "sortable_name": sub})

    def list_modules(self, course: int) -> Response:
        student = int(request.args["student_id"])
        page = int(request.args.get("page", 1))
        size = min(int(request.args.get("per_page", 10)), self.page_size)
        chosen = self.modules[(page - 1) * size : page * size]
        body = [self._module(m, student) for m in chosen]
        response = _json(body)
        if page * size < len(self.modules):
            following = self.next_url or (
                f"{self.url}/api/v1/courses/{course}/modules?include%5B%5D=items"
                f"&student_id={student}&page={page + 1}&per_page={size}"
            )
            response.headers["Link"] = (f'<{following}>; rel="next", <{self.url}/api/v1/courses/'
                                        f'{course}/modules?page=1>; rel="first"')  # fmt: skip
        return response

    def _module(self, module: dict[str, Any], student: int) -> dict[str, Any]:
        completed_at = self.done_modules.get((student, module["id"]))
        shown = {"id": module["id"], "name": module["name"], "position": 1,
                 "items_count": len(module["items"]), "published": True,
                 "items_url": f"{self.url}/api/v1/courses/{self.course_id}/modules/"
                              f"{module['id']}/items",
                 "state": "completed" if completed_at else "started",
                 "completed_at": completed_at}  # fmt: skip
        if module.get("inline", True):
            shown["items"] = [self._item(module["id"], item, student) for item in module["items"]]
        return shown

    def _item(self, module_id: int, item: dict[str, Any], student: int) -> dict[str, Any]:
        page = f"{self.url}/courses/{self.course_id}/modules/items/{item['id']}"
        shown = {"id": item["id"], "module_id": module_id, "title": item["title"],
                 "type": item.get("type", "Page"), "position": 1, "indent": 0,
                 "html_url": page}  # fmt: skip
        if item.get("type") != "SubHeader":
            done = (student, item["id"]) in self.done_items
            shown["completion_requirement"] = {"type": "must_view", "completed": done}
        return shown

    def items(self, course: int, module: int) -> Response:
        student = int(request.args["student_id"])
        found = next(m for m in self.modules if m["id"] == module)
        return _json([self._item(module, item, student) for item in found["items"]])

    def progress(self, course: int, user: int) -> Response:
        count = sum(len(m["items"]) for m in self.modules)
        done = sum(1 for (u, _item) in self.done_items if u == user)
        return _json({"requirement_count": count, "requirement_completed_count": done,
                      "next_requirement_url": None,
                      "completed_at": self.done_courses.get(user)})  # fmt: skip


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
