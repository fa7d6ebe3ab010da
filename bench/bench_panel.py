"""The learner panel under load: GET /panel/ (a feed of 20 delivered messages) against this
machine's ceiling for a bare Flask page, through the same gunicorn, in the same run.

A course of LEARNERS learners, each with 20 delivered messages of mixed kinds (welcome, tips,
questions answered by some, resources, a survey, a session some have RSVPed to), one mentor
with a profile paired with everyone, and a question thread each. gunicorn (2 workers, 4
threads: what fits the machine's two cores) serves the real app (``wsgi:app``) with one
bench-only page added by ``served()`` here: /bench/ceiling renders a one-line template
with one row read through the app's session (never part of the app itself). The client is
asyncio on keep-alive connections, sharing the two cores with the server (figures are a
floor). Each page is measured in ROUNDS rounds of SECONDS, the pages alternated (this
machine's speed drifts), after a warm-up in which every learner has read her feed (so
marked it read).

- Throughput: CLIENTS learners (each with her own launch token) read their panels back to
  back, as many as the server answers: ``panel_feed`` (re-reads: the page cache serves them
  while nothing on the panel changed) against ``panel_ceiling``.
- Latency at CLIENTS concurrent clients: each, a learner's browser, sends PACE requests a
  second on its own schedule (a page every 250 ms: far above a person's pace; CLIENTS x PACE
  in all, a fifth of the ceiling on a quiet machine); a request's time runs from when it was
  due, so a server falling behind is counted, not hidden. At CLIENTS clients back to back
  instead, latency is only queueing (Little's law: CLIENTS / rate): not even the ceiling
  page answers within 50 ms that way on two cores (reported too, as
  panel_feed_p99_back_to_back).
- Rendering: the same server with the page cache off (VM_PANEL_CACHE_PAGES=0), CLIENTS
  clients back to back over all LEARNERS learners: every request renders the feed.
Runs on PostgreSQL (VM_BENCH_DATABASE_URL, default this machine's), SQLite if none.
Figures: panel_feed and panel_ceiling (requests/s), panel_feed_ratio (the target is at
least 0.6), panel_feed_p99 and panel_ceiling_p99 (ms at CLIENTS paced clients; the target
is under 50 ms), panel_render (requests/s with every page rendered) and panel_render_ratio.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.database import bench_database
from bench.engine_latency import engine_settings, mentored_course
from bench.figures import Figure
from bench.services import app_on, gunicorn
from lti_tool import clock
from lti_tool.courses.models import Role
from lti_tool.extensions import close_connections, db
from lti_tool.lti import tokens
from lti_tool.lti.models import Deployment
from lti_tool.mentoring import dispatch, journeys, plans
from lti_tool.mentoring.models import Delivery, Message, MessageKind, Response, Rsvp, RsvpAnswer
from lti_tool.threads.models import Thread, ThreadStatus
from lti_tool.topics.services import add_topic

LEARNERS, CLIENTS, ROUNDS, SECONDS, WARM_UP, PACE = 1000, 50, 6, 2.0, 3.0, 4.0
BENCH_SETTING = "BENCH_CEILING"  # VM_BENCH_CEILING: a tooling variable, not an app setting
BODY = """Hello {first_name}, this week in **{topic}** we look at *active listening*.

- Read the [short guide](https://example.org/guide) before Thursday
- Try one exercise with a colleague
- Note what surprised you

Ask {mentor} anything in the panel."""
SURVEY = {"items": [
    {"key": "useful", "kind": "likert", "prompt": "This week was useful"},
    {"key": "more", "kind": "text", "prompt": "Anything else?"}]}  # fmt: skip
SESSION = {"starts_at": "2030-01-15T14:00", "time_zone": "Europe/Paris",
           "format": "office_hours", "place": "Room 4", "capacity": 400}  # fmt: skip
CHOICES = [{"key": "yes", "label": "Yes"}, {"key": "no", "label": "Not yet"}]
KINDS = ["welcome", "tip", "question", "resource", "tip", "question", "resource", "survey",
         "tip", "session"] * 2  # fmt: skip


def run() -> Iterator[Figure]:
    """Seed the course, serve it with gunicorn, load the panel then the ceiling page."""
    with tempfile.TemporaryDirectory() as folder, bench_database(folder) as (url, kind):
        settings = engine_settings(folder, url, "memory://", MENTORING_DISPATCH_BATCH=5000)
        app = app_on(settings)
        with app.app_context():
            launches = _seed(app)
            close_connections()
        every = [f"/panel/?lt={token}" for token in launches]
        readers, ceiling = every[:CLIENTS], ["/bench/ceiling"] * CLIENTS
        with gunicorn({**settings, BENCH_SETTING: True}, app="bench.bench_panel:served()") as port:
            asyncio.run(_load(port, every, WARM_UP, every_path=True))  # all read once
            asyncio.run(_load(port, ceiling, WARM_UP))
            rates = _rounds(port, {"feed": (readers, None), "ceiling": (ceiling, None)})
            paced = _rounds(port, {"feed": (readers, PACE), "ceiling": (ceiling, PACE)})
        uncached = {**settings, BENCH_SETTING: True, "PANEL_CACHE_PAGES": 0}
        with gunicorn(uncached, app="bench.bench_panel:served()") as port:
            asyncio.run(_load(port, every, WARM_UP))
            rendered = _rounds(port, {"feed": (every, None)})
    print(f"# panel on {kind}: gunicorn 2x4, {CLIENTS} asyncio clients, {ROUNDS} rounds of "
          f"{SECONDS:.0f} s a page; {LEARNERS} learners x 20 messages; paced at {PACE:.0f} "
          "requests/s a client", flush=True)  # fmt: skip
    feed_rate, ceiling_rate = rates["feed"].rate(), rates["ceiling"].rate()
    yield Figure("panel_feed", feed_rate, "requests/s")
    yield Figure("panel_ceiling", ceiling_rate, "requests/s (machine ceiling)")
    yield Figure("panel_feed_ratio", feed_rate / ceiling_rate, "of the ceiling (target >= 0.6)")
    yield Figure("panel_feed_p99", paced["feed"].p99(),
                 f"ms at {CLIENTS} clients x {PACE:.0f}/s (target < 50)")  # fmt: skip
    yield Figure("panel_ceiling_p99", paced["ceiling"].p99(), f"ms at {CLIENTS} clients x "
                 f"{PACE:.0f}/s")  # fmt: skip
    yield Figure("panel_feed_p99_back_to_back", rates["feed"].p99(), f"ms at {CLIENTS} clients")
    yield Figure("panel_render", rendered["feed"].rate(), "requests/s, every page rendered")
    yield Figure("panel_render_ratio", rendered["feed"].rate() / ceiling_rate, "of the ceiling")


def _rounds(port: int, pages: dict[str, tuple[list[str], float | None]]) -> dict[str, _Tally]:
    """ROUNDS rounds of each page in turn (paths, pace); each page's tally."""
    tallies = {name: _Tally() for name in pages}
    for _round in range(ROUNDS):  # alternated: the machine's speed drifts
        for name, (paths, pace) in pages.items():
            tallies[name].add(*asyncio.run(_load(port, paths, SECONDS, pace=pace)))
    return tallies


def served() -> Flask:
    """gunicorn's app for this bench: the real one (``wsgi:app``) with the ceiling page
    added; refuses to run unless the bench's own setting is on."""
    from wsgi import app  # built here, in gunicorn's worker, not at import

    if os.environ.get(f"VM_{BENCH_SETTING}") != "true":
        raise RuntimeError(f"served() is the panel bench's app; VM_{BENCH_SETTING} is not on")
    ceiling = Blueprint("bench_ceiling", __name__, url_prefix="/bench")
    template = app.jinja_env.from_string("<!doctype html><title>{{ title }}</title><p>{{ title }}")

    @ceiling.get("/ceiling")
    def page() -> str:
        """A template rendered with one row read through the app's session."""
        title = db.session.scalar(select(Deployment.deployment_id).limit(1))
        return template.render(title=title)

    app.register_blueprint(ceiling)
    return app


def _seed(app: Flask) -> list[str]:
    """The course, its mentor, LEARNERS learners with 20 delivered messages each (some
    answered, some RSVPed) and a thread each; every learner's launch token."""
    session = db.session()
    registration, course, mentor_id, learners = mentored_course(
        "https://moodle.example.org", [f"learner-{n}" for n in range(LEARNERS)]
    )
    add_topic(session, registration.id, "Active listening")
    sequence, _rules = plans.store(session, registration.id, {
        "name": "Week 1", "topic": "Active listening", "steps": [
        {"key": f"s{n}", "offset_days": 0, "message": _message(kind, n)}
        for n, kind in enumerate(KINDS)]})  # fmt: skip
    journeys.start(session, [journeys.Start(sequence.id, course.id, learner, "bench")
                             for learner in learners])  # fmt: skip
    session.commit()
    assert dispatch.dispatch_due(session) == LEARNERS * len(KINDS)
    _answers(session, course.id)
    now = clock.now()
    session.execute(insert(Thread), [
        {"course_id": course.id, "learner_id": learner, "mentor_id": mentor_id,
         "subject": "How do I start?", "status": ThreadStatus.ANSWERED if n % 2 else
         ThreadStatus.WAITING, "opened_at": now - timedelta(hours=3),
         "last_learner_post_at": now - timedelta(hours=2),
         "learner_unread_at": now if n % 2 else None}
        for n, learner in enumerate(learners)])  # fmt: skip
    session.commit()
    deployment = session.scalars(select(Deployment)).one()
    secret = app.config["SECRET_KEY"]
    return [tokens.issue(tokens.LaunchContext(registration.id, deployment.id, course.id,
                                              learner, Role.LEARNER), secret)
            for learner in learners]  # fmt: skip


def _message(kind: str, number: int) -> dict[str, Any]:
    title = f"{kind.capitalize()} {number}, {{first_name}}"
    body = f"{BODY}\n\n*Step {number + 1} of {len(KINDS)}.*"  # a body of its own
    message: dict[str, Any] = {"kind": kind, "title": title, "body": body}
    if kind == MessageKind.QUESTION:
        message["choices"] = CHOICES
    elif kind == MessageKind.RESOURCE:
        message["details"] = {"url": f"https://example.org/reading/{number}", "type": "article"}
    elif kind == MessageKind.SURVEY:
        message["details"] = SURVEY
    elif kind == MessageKind.SESSION:
        message["details"] = SESSION
    return message


def _answers(session: Session, course_id: int) -> None:
    """Every third learner has answered the questions; every fourth is going to the session."""
    now = clock.now()
    rows = session.execute(
        select(Delivery.id, Delivery.person_id, Delivery.message_id, Delivery.step_id)
        .where(Delivery.course_id == course_id)
    ).all()  # fmt: skip
    kinds = dict(session.execute(select(Message.id, Message.kind)).all())
    responses, rsvps = [], []
    for delivery_id, person_id, message_id, _step in rows:
        if kinds[message_id] == MessageKind.QUESTION and person_id % 3 == 0:
            responses.append({"delivery_id": delivery_id, "answer": "yes", "text": "",
                              "via": "panel", "answers": {}, "answered_at": now})  # fmt: skip
        elif kinds[message_id] == MessageKind.SESSION and person_id % 4 == 0:
            rsvps.append({"message_id": message_id, "person_id": person_id,
                          "course_id": course_id, "delivery_id": delivery_id,
                          "answer": RsvpAnswer.GOING, "answered_at": now})  # fmt: skip
    session.execute(insert(Response), responses)
    session.execute(insert(Rsvp), rsvps)


class _Tally:
    """Latencies and seconds of a page's rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seconds = 0.0

    def add(self, latencies: list[float], seconds: float) -> None:
        """One round's."""
        self.latencies += latencies
        self.seconds += seconds

    def rate(self) -> float:
        """Requests/s over every round."""
        return len(self.latencies) / self.seconds

    def p99(self) -> float:
        """The 99th percentile latency, in ms."""
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.99) - 1] * 1000


async def _load(
    port: int, paths: list[str], seconds: float, *, every_path: bool = False,
    pace: float | None = None,
) -> tuple[list[float], float]:  # fmt: skip
    """CLIENTS clients on keep-alive connections ask for their paths (client n takes paths
    n, n + CLIENTS, ...) back to back for ``seconds`` (or, with ``every_path``, until each
    has asked for each of its paths once; or, with ``pace``, each ``pace`` times a second
    on a schedule of its own, a request's time counted from when it was due); each
    request's seconds, and the round's."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(offset: int, mine: list[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            number, due = 0, time.perf_counter() + (offset / CLIENTS / pace if pace else 0)
            while (number < len(mine)) if every_path else time.perf_counter() < deadline:
                path = mine[number % len(mine)]
                number += 1
                if pace:  # wait for this request's time; late ones count from it
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    started, due = due, due + 1 / pace
                else:
                    started = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"GET {path[:40]} answered {status}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n, paths[n::CLIENTS]) for n in range(CLIENTS)))
    return latencies, time.perf_counter() - started


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {
        k.strip().lower(): v.strip()
        for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status
