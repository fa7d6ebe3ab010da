"""A fake LRS on 127.0.0.1: GET /xapi/statements with since, limit, ascending and filters,
paged with ``more``, answering however a test tells it to."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request

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

    def __post_init__(self) -> None:
        self.app.add_url_rule("/xapi/statements", view_func=self.list_statements)

    def list_statements(self) -> Response:
        auth = request.authorization
        self.requests.append({
            "args": request.args.to_dict(), "version": request.headers.get(VERSION_HEADER),
            "auth": (auth.username, auth.password) if auth else None,
        })  # fmt: skip
        if self.hang:
            self.released.wait(self.hang)
        if self.answer is not None:
            status, body, headers = self.answer
            return Response(body, status=status, headers=headers, mimetype="application/json")
        if self.requests[-1]["auth"] != (USERNAME, PASSWORD):
            return Response("{}", status=401, mimetype="application/json")
        return self._page(request.args.to_dict())

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


def _key(moment: str) -> str:
    return moment.replace("Z", "+00:00")  # the fixtures write one format: text order is time order
