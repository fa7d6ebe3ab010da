"""A webhook receiver on 127.0.0.1 (a chat tool's incoming webhook): keeps each post and
answers however a test tells it to."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request


@dataclass
class FakeReceiver:
    """Answers 200 to every post unless ``answers`` says otherwise (one each, first first)."""

    #: (status, body, headers) to answer the next posts with.
    answers: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    #: Seconds to wait before answering (a receiver that hangs).
    hang: float = 0.0
    #: (headers, body) of each post received.
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    app: Flask = field(default_factory=lambda: Flask("fake-receiver"))
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.app.add_url_rule("/hooks/mentor", view_func=self.receive, methods=["POST"])

    @property
    def hook_url(self) -> str:
        """The address a webhook is added with."""
        return f"{self.url}/hooks/mentor"

    def receive(self) -> Response:
        self.posts.append((dict(request.headers), request.get_data()))
        if self.hang:
            self.released.wait(self.hang)
        if self.answers:
            status, body, headers = self.answers.pop(0)
            return Response(body, status=status, headers=headers)
        return Response('{"ok": true}', mimetype="application/json")

    def last(self) -> tuple[dict[str, str], Any]:
        """The last post's headers and body."""
        return self.posts[-1]
