"""A fake Moodle on 127.0.0.1: the REST web service server with the four functions the
completion reader calls, answering as Moodle 4.x does (refusals as JSON with HTTP 200)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

TOKEN = "moodle-token-0123456789abcdef-that-must-never-show"


def exception(errorcode: str, message: str) -> dict[str, str]:
    """A Moodle web service refusal, as its REST server writes it."""
    return {"exception": "moodle_exception", "errorcode": errorcode, "message": message}


@dataclass
class FakeMoodle:
    """A Moodle whose course ``course_id`` has ``users``, ``modules`` and their states."""

    course_id: int = 2
    #: Moodle user ids tracked for completion in the course.
    users: list[int] = field(default_factory=list)
    #: (cmid, modname, name) of the course's activities.
    modules: list[tuple[int, str, str]] = field(default_factory=list)
    #: (user id, cmid) -> (state, timecompleted).
    states: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    #: user id -> the criteria's completion times, for users who completed the course.
    course_done: dict[int, list[int]] = field(default_factory=dict)
    #: Whether the course has completion criteria (else Moodle says nocriteriaset).
    criteria: bool = True
    #: (status, body) to answer every request with instead.
    answer: tuple[int, str] | None = None
    #: Seconds to wait before answering (a Moodle that hangs).
    hang: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    #: Instant messages sent (core_message_send_instant_messages), as form fields.
    messages: list[dict[str, str]] = field(default_factory=list)
    #: User id -> the errormessage Moodle gives for a message it does not send (msgid -1).
    unmessageable: dict[int, str] = field(default_factory=dict)
    url: str = ""
    app: Flask = field(default_factory=lambda: Flask("fake-moodle"))
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.app.add_url_rule("/webservice/rest/server.php", view_func=self.server,
                              methods=["GET", "POST"])  # fmt: skip

    def server(self) -> Response:
        form = request.form.to_dict()
        self.calls.append({"method": request.method, "query": request.query_string.decode(),
                           "form": {k: v for k, v in form.items() if k != "wstoken"},
                           "token": form.get("wstoken")})  # fmt: skip
        if self.hang:
            self.released.wait(self.hang)
        if self.answer is not None:
            return Response(self.answer[1], status=self.answer[0], mimetype="text/html")
        if form.get("wstoken") != TOKEN:
            body: Any = exception("invalidtoken", "Invalid token - token not found")
        else:
            body = self._call(form.get("wsfunction", ""), form)
        return Response(json.dumps(body), mimetype="application/json")

    def _call(self, function: str, form: dict[str, str]) -> Any:
        if function == "core_message_send_instant_messages":
            return self._message(form)
        if int(form.get("courseid", 0)) != self.course_id:
            return exception("invalidrecord", "Can't find data record in database table course.")
        handler = {
            "core_enrol_get_enrolled_users": self._users,
            "core_course_get_contents": self._contents,
            "core_completion_get_activities_completion_status": self._activities,
            "core_completion_get_course_completion_status": self._course,
        }.get(function)
        if handler is None:
            return exception("accessexception", "Access control exception")
        return handler(form)

    def _message(self, form: dict[str, str]) -> Any:
        sent = {k.removeprefix("messages[0][").rstrip("]"): v for k, v in form.items()
                if k.startswith("messages[0][")}  # fmt: skip
        user = int(sent["touserid"])
        if user in self.unmessageable:
            return [{"msgid": -1, "clientmsgid": sent.get("clientmsgid"),
                     "errormessage": self.unmessageable[user]}]  # fmt: skip
        self.messages.append(sent)
        return [{"msgid": len(self.messages), "clientmsgid": sent.get("clientmsgid"),
                 "text": sent["text"], "timecreated": 1763971200, "conversationid": 5,
                 "useridfrom": 2, "candeletemessagesforallusers": False}]  # fmt: skip

    def _users(self, form: dict[str, str]) -> Any:
        options = {form[f"options[{i}][name]"]: form[f"options[{i}][value]"]
                   for i in range(10) if f"options[{i}][name]" in form}  # fmt: skip
        start, count = int(options.get("limitfrom", 0)), int(options.get("limitnumber", 0))
        chosen = self.users[start : start + count] if count else self.users[start:]
        return [{"id": user, "fullname": f"User {user}"} for user in chosen]

    def _contents(self, form: dict[str, str]) -> Any:
        modules = [{"id": cmid, "name": name, "modname": modname, "instance": cmid * 10,
                    "url": f"{self.url}/mod/{modname}/view.php?id={cmid}"}
                   for cmid, modname, name in self.modules]  # fmt: skip
        return [{"id": 1, "name": "General", "section": 0, "modules": modules}]

    def _activities(self, form: dict[str, str]) -> Any:
        user = int(form["userid"])
        if user not in self.users:
            return exception("usernotenroled", "User is not enrolled in this course")
        statuses = []
        for cmid, modname, _name in self.modules:
            state, time = self.states.get((user, cmid), (0, 0))
            statuses.append({"cmid": cmid, "modname": modname, "instance": cmid * 10,
                             "state": state, "timecompleted": time, "tracking": 2,
                             "overrideby": None, "valueused": False, "hascompletion": True,
                             "isautomatic": True, "istrackeduser": True,
                             "uservisible": True, "details": []})  # fmt: skip
        return {"statuses": statuses, "warnings": []}

    def _course(self, form: dict[str, str]) -> Any:
        if not self.criteria:
            return exception("nocriteriaset", "No criteria set for this course")
        times = self.course_done.get(int(form["userid"]))
        completions = [{"type": 4, "title": "Activity completion", "status": "Yes",
                        "complete": True, "timecompleted": t,
                        "details": {"type": "Activity completion", "criteria": "Quiz",
                                    "requirement": "Marking yourself complete",
                                    "status": ""}} for t in times or []]  # fmt: skip
        return {"completionstatus": {"completed": times is not None, "aggregation": 1,
                                     "completions": completions}, "warnings": []}  # fmt: skip
