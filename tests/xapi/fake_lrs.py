"""A fake LRS on 127.0.0.1: GET /xapi/statements with since, limit, ascending and filters,
paged with ``more``; POST and PUT of statements, kept once per id as an LRS keeps them;
answering however a test tells it to."""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer

from tests.helpers.servers import serve

FIXTURES = Path(__file__).parent / "fixtures"
VERSION_HEADER = "X-Experience-API-Version"
USERNAME, PASSWORD = "vm-reader", "lrs-password-that-must-never-show"


def lrs_statement(
    number: int,
    stored: str,
    *,
    timestamp: str | None = None,
    fixture: str = "moodle5_module_completed_passed",
) -> dict[str, Any]:
    """A statement as an LRS returns it: the fixture with its own id, stored and authority."""
    statement = dict(json.loads((FIXTURES / f"{fixture}.json").read_text()))
    statement["id"] = f"00000000-0000-4000-8000-{number:012d}"
    statement["timestamp"] = timestamp or stored
    statement["stored"] = stored
    statement["authority"] = {"objectType": "Agent", "account": {
        "homePage": "https://lrs.example.org", "name": "moodle-logstore"}}  # fmt: skip
    statement["version"] = "1.0.0"
    return statement


@dataclass
class FakeLrs:
    """An LRS holding ``statements``; ``answer`` replaces every answer when set."""

    statements: list[dict[str, Any]] = field(default_factory=list)
    #: "relative" (the spec's path), "absolute" (some LRSs) or a full URL to send instead.
    more: str = "relative"
    #: The property ``since`` filters on: "stored", or "timestamp" as some LRSs do.
    since_on: str = "stored"
    #: (status, body, headers) to answer every request with instead of statements.
    answer: tuple[int, str, dict[str, str]] | None = None
    #: Seconds to wait before answering (an LRS that hangs).
    hang: float = 0.0
    consistent_through: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    app: Flask = field(default_factory=lambda: Flask("fake-lrs"))
    released: threading.Event = field(default_factory=threading.Event)
    #: Statements sent to it, by id, as first received (an LRS keeps an id once).
    received: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The ids of each POST or PUT that it accepted, in order (a resend appears again).
    accepted: list[list[str]] = field(default_factory=list)
    #: Answers for the next POSTs and PUTs, one each, before it behaves again.
    next_answers: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    #: Ids it refuses with 400 (a batch holding one is refused whole, as the spec says).
    refuse: set[str] = field(default_factory=set)
    #: Answer 409 to any id it holds already, same statement or not (some LRSs do).
    conflict_on_resend: bool = False
    server: BaseWSGIServer | None = None

    def __post_init__(self) -> None:
        self.app.add_url_rule("/xapi/statements", view_func=self.resource,
                              methods=["GET", "POST", "PUT"])  # fmt: skip

    def stop(self) -> None:
        """Go down: connections to its port are refused until ``start``."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def start(self) -> None:
        """Come back up on the same address."""
        port = int(self.url.rsplit(":", 1)[1])
        self.server, _ = serve(self.app, port)

    def resource(self) -> Response:
        auth = request.authorization
        self.requests.append({
            "method": request.method, "args": request.args.to_dict(),
            "version": request.headers.get(VERSION_HEADER),
            "auth": (auth.username, auth.password) if auth else None,
        })  # fmt: skip
        if self.hang:
            self.released.wait(self.hang)
        answer = self.answer
        if request.method != "GET" and self.next_answers:
            answer = self.next_answers.pop(0)
        if answer is not None:
            status, body, headers = answer
            return Response(body, status=status, headers=headers, mimetype="application/json")
        if self.requests[-1]["auth"] != (USERNAME, PASSWORD):
            return Response("{}", status=401, mimetype="application/json")
        if request.method != "GET":
            return self._store(request.get_json())
        if "statementId" in request.args:
            held = self.received.get(request.args["statementId"])
            return Response(json.dumps(held), status=200 if held else 404,
                            mimetype="application/json")  # fmt: skip
        return self._page(request.args.to_dict())

    def _store(self, body: Any) -> Response:
        """Keep each statement once; refuse the whole request if one is refused."""
        batch = body if isinstance(body, list) else [body]
        ids = [s["id"] for s in batch]
        if self.refuse & set(ids):
            return Response('{"message": "statement is not acceptable"}', status=400,
                            mimetype="application/json")  # fmt: skip
        for statement in batch:
            held = self.received.get(statement["id"])
            if held is not None and (self.conflict_on_resend or held != statement):
                return Response('{"message": "conflict"}', status=409, mimetype="application/json")
        for statement in batch:
            self.received.setdefault(statement["id"], statement)
        self.accepted.append(ids)
        if request.method == "PUT":
            return Response(status=204)
        return Response(json.dumps(ids), mimetype="application/json")

    def _page(self, args: dict[str, str]) -> Response:
        matching = [s for s in self.statements if args.get("verb") in (None, s["verb"]["id"])]
        if "since" in args:
            matching = [s for s in matching if _key(s[self.since_on]) > _key(args["since"])]
        matching.sort(key=lambda s: _key(s[self.since_on]))
        offset, limit = int(args.get("offset", 0)), int(args.get("limit", 0)) or 100
        page = matching[offset : offset + limit]
        more = ""
        if offset + limit < len(matching):
            path = "/xapi/statements?" + urlencode({**args, "offset": offset + limit})
            more = {"relative": path, "absolute": self.url + path}.get(self.more, self.more)
        body = {"statements": copy.deepcopy(page), "more": more, "lrs": {"vendor": "fake"}}
        response = Response(json.dumps(body), mimetype="application/json")
        response.headers[VERSION_HEADER] = "1.0.3"
        if self.consistent_through:
            response.headers["X-Experience-API-Consistent-Through"] = self.consistent_through
        return response


@contextlib.contextmanager
def running() -> Iterator[FakeLrs]:
    """A fake LRS at a real URL on 127.0.0.1, stopped (and any hang released) afterwards."""
    fake = FakeLrs()
    fake.server, fake.url = serve(fake.app)
    try:
        yield fake
    finally:
        fake.released.set()
        fake.stop()


def _key(moment: str) -> str:
    return moment.replace("Z", "+00:00")  # the fixtures write one format: text order is time order
