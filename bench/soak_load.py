"""The soak's load: paced actors (each a few threads in this process) that launch, read
panels, answer, ask and post statements against two web processes, and what each of them
had acknowledged, so the soak can check afterwards that nothing was lost.

A request's latency runs from when it was sent to when its answer was read (the actor's
own thread shares the machine's two cores with the servers, so latencies are a ceiling).
An answer with a status the action does not expect, or no answer, is an error.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from flask import Flask

from lti_tool.devplatform.directory import COURSES, role_in
from lti_tool.devplatform.services import authorize, login_initiation
from lti_tool.extensions import db

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Tally:
    """One action's latencies (s), answers by status, and its first few errors."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, status: int, ok: bool, detail: str = "") -> None:
        """One request's outcome."""
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            if not ok:
                self.failed += 1
                if len(self.errors) < 5:
                    self.errors.append(f"{status} {detail[:200]}")

    def percentile(self, share: float) -> float:
        """The latency (ms) under which ``share`` of the requests were answered."""
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * share) - 1)] * 1000 if ordered else 0.0


@dataclass
class Acknowledged:
    """What the servers said they took: the soak checks each of these is stored."""

    statements: set[str] = field(default_factory=set)
    triggered: list[int] = field(default_factory=list)  # learner indices, first statement taken
    answered: dict[int, str] = field(default_factory=dict)  # delivery id -> answer
    asked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Connection:
    """One keep-alive HTTP connection to a web process, opened afresh after a failure or
    after IDLE seconds unused (gunicorn closes idle keep-alive connections after 2 s; a
    browser would open a new one too)."""

    IDLE = 1.0

    def __init__(self, port: int) -> None:
        self.port = port
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.used = time.monotonic()

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[
            int, bytes]:  # fmt: skip
        """The answer's status and body."""
        if time.monotonic() - self.used > self.IDLE:
            self._reopen()
        try:
            self.http.request(method, path, body=body, headers=headers)
            answer = self.http.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            self._reopen()
            raise
        finally:
            self.used = time.monotonic()

    def _reopen(self) -> None:
        self.http.close()
        self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)


@dataclass
class Learners:
    """The seeded learners: subjects, person ids and launch tokens, by index."""

    subjects: list[str]
    person_ids: list[int]
    tokens: list[str]


class Load:
    """The actors, their tallies and what was acknowledged."""

    def __init__(self, app: Flask, ports: list[int], learners: Learners,
                 xapi_headers: dict[str, str], statement: dict[str, Any]) -> None:  # fmt: skip
        self.app, self.ports, self.learners = app, ports, learners
        self.xapi_headers, self.statement = xapi_headers, statement
        self.tallies: dict[str, Tally] = {}
        self.acked = Acknowledged()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.next_learner = itertools.count()
        self.open_questions: list[tuple[int, int]] = []  # (delivery id, learner index)
        self.taken: set[int] = set()  # questions an answerer has taken (answered or not)
        self.platform = f"http://127.0.0.1:{ports[0]}"

    def start(self, rates: dict[str, float]) -> None:
        """Start every actor at its rate (requests a second; two threads each)."""
        actions: dict[str, Callable[[Connection, random.Random], None]] = {
            "launch": self._launch, "panel": self._panel, "answer": self._answer,
            "ask": self._ask, "statements": self._statements,
        }  # fmt: skip
        for name, rate in rates.items():
            self.tallies[name] = Tally()
            for number in range(2):
                thread = threading.Thread(target=self._paced, name=f"{name}-{number}",
                                          args=(name, actions[name], rate / 2, number))  # fmt: skip
                thread.start()
                self.threads.append(thread)

    def finish(self) -> None:
        """Stop the actors and wait for their last requests."""
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def offer_questions(self, found: list[tuple[int, int]]) -> None:
        """Delivered, unanswered questions (delivery id, learner index) the answerers may take."""
        with self.acked.lock:
            self.open_questions = [item for item in found if item[0] not in self.taken]

    def _paced(self, name: str, action: Callable[[Connection, random.Random], None],
               rate: float, number: int) -> None:  # fmt: skip
        rng = random.Random(f"{name}-{number}")
        connections = [Connection(port) for port in self.ports]
        due = time.monotonic() + number / rate / 2
        sent = 0
        while not self.stop.is_set():
            self.stop.wait(max(0.0, due - time.monotonic()))
            if self.stop.is_set():
                return
            due += 1 / rate
            sent += 1
            try:
                action(connections[sent % len(connections)], rng)  # the web processes in turn
            except Exception as exc:  # counted as a failure; the actor goes on
                self.tallies[name].record(0.0, 0, False, repr(exc))

    def _timed(
        self, name: str, connection: Connection, request: tuple[str, str, bytes | None],
        headers: dict[str, str], expected: int,
    ) -> bytes | None:  # fmt: skip
        method, path, body = request
        started = time.perf_counter()
        try:
            status, text = connection.send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.tallies[name].record(time.perf_counter() - started, 0, False, repr(exc))
            return None
        ok = status == expected
        self.tallies[name].record(time.perf_counter() - started, status, ok,
                                  f"{method} {path[:50]}: {text[:150]!r}")  # fmt: skip
        return text if ok else None

    def _panel(self, connection: Connection, rng: random.Random) -> None:
        """A learner who has had follow-ups (else any) reads her panel."""
        with self.acked.lock:
            pool = self.acked.triggered or range(len(self.learners.tokens))
            learner = rng.choice(pool)
        path = f"/panel/?lt={self.learners.tokens[learner]}"
        self._timed("panel", connection, ("GET", path, None), {}, 200)

    def _answer(self, connection: Connection, rng: random.Random) -> None:
        """A learner answers her "have you applied it?" question in the panel."""
        with self.acked.lock:
            if not self.open_questions:
                return
            delivery, learner = self.open_questions.pop(rng.randrange(len(self.open_questions)))
            self.taken.add(delivery)  # never answered twice, even while this one is on its way
        answer = rng.choice(("yes", "not_yet"))
        body = urlencode({"lt": self.learners.tokens[learner], "answer": answer}).encode()
        if self._timed("answer", connection, ("POST", f"/panel/answer/{delivery}", body), FORM,
                       303) is not None:  # fmt: skip
            with self.acked.lock:
                self.acked.answered[delivery] = answer

    def _ask(self, connection: Connection, rng: random.Random) -> None:
        """A learner asks her mentor a question."""
        learner = rng.randrange(len(self.learners.tokens))
        body = urlencode(
            {
                "lt": self.learners.tokens[learner],
                "question": f"How do I practise this at work? ({uuid.uuid4()})",
            }
        )
        if self._timed("ask", connection, ("POST", "/panel/ask", body.encode()), FORM,
                       303) is not None:  # fmt: skip
            with self.acked.lock:
                self.acked.asked += 1

    def _statements(self, connection: Connection, rng: random.Random) -> None:
        """A batch of five completions: one from a learner the plan has not reached yet (it
        starts her follow-ups), four from learners it has."""
        fresh = next(self.next_learner)
        if fresh >= len(self.learners.subjects):
            return
        with self.acked.lock:
            known = self.acked.triggered
            others = [rng.choice(known) for _ in range(4)] if known else []
        batch = [self._completion(index) for index in [fresh, *others]]
        text = self._timed("statements", connection,
                           ("POST", "/xapi/statements", json.dumps(batch).encode()),
                           self.xapi_headers, 200)  # fmt: skip
        if text is not None:
            with self.acked.lock:
                self.acked.statements.update(json.loads(text))
                self.acked.triggered.append(fresh)

    def _completion(self, learner: int) -> dict[str, Any]:
        statement = copy.deepcopy(self.statement)
        statement["id"] = str(uuid.uuid4())
        statement["actor"]["account"]["name"] = self.learners.subjects[learner]
        statement["timestamp"] = datetime.now(UTC).isoformat()
        return statement

    def _launch(self, connection: Connection, rng: random.Random) -> None:
        """A demo learner launches from the embedded platform (login, launch, her panel)."""
        course = rng.choice(list(COURSES.values()))
        sub = rng.choice([member for member, role in course.members
                          if role == "Learner" and role_in(course, member)])  # fmt: skip
        tool = f"http://127.0.0.1:{connection.port}"
        secret = self.app.config["SECRET_KEY"]
        browser = requests.Session()
        started, status, ok, detail = time.perf_counter(), 0, False, ""
        server_time = 0.0
        try:
            params = login_initiation(self.platform, tool, course.context_id, sub,
                                      storage=False, secret=secret)  # fmt: skip
            login = browser.get(f"{tool}/lti/login", params=params, allow_redirects=False,
                                timeout=30)  # fmt: skip
            status, detail = login.status_code, login.text[:200]
            if status == 302:
                query = parse_qs(urlsplit(login.headers["Location"]).query)
                auth = {name: values[0] for name, values in query.items()}
                server_time = time.perf_counter() - started
                with self.app.app_context():  # the platform's time, not the tool's
                    form = authorize(db.session(), self.platform, auth, secret)
                    db.session.remove()
                started = time.perf_counter()
                # The state cookie is Secure (SameSite=None): sent back as a browser on https
                # would, though this is plain http.
                landing = browser.post(f"{tool}/lti/launch", data={
                    "id_token": form["id_token"], "state": form["state"]},
                    cookies={cookie.name: cookie.value or "" for cookie in login.cookies},
                    allow_redirects=False, timeout=30)  # fmt: skip
                status, detail = landing.status_code, landing.text[:200]
                if status == 303:
                    page = browser.get(f"{tool}{landing.headers['Location']}"
                                       if landing.headers["Location"].startswith("/")
                                       else landing.headers["Location"], timeout=30)  # fmt: skip
                    status, detail, ok = page.status_code, page.text[:200], page.status_code == 200
        except requests.RequestException as exc:
            detail = repr(exc)
        finally:
            browser.close()
        self.tallies["launch"].record(server_time + time.perf_counter() - started, status, ok,
                                      detail)  # fmt: skip
