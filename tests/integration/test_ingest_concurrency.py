"""Statements and hand-offs under concurrency, on real PostgreSQL with the app's own engine
(autocommit, as in production): one round trip per new batch, an id stored by a concurrent
request is compared as the careful path does, and two hand-offs never share an event."""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Person
from lti_tool.events import handoff
from lti_tool.events.handoff import HandedEvent
from lti_tool.events.models import LearningEvent
from lti_tool.extensions import close_connections, db
from tests.conftest import own_database
from tests.helpers.seed import platform_course
from tests.helpers.services import service_url
from xapi import credentials
from xapi.models import Statement

FIXTURE = Path(__file__).parents[1] / "xapi" / "fixtures" / "moodle5_module_completed_passed.json"
MOODLE = "https://moodle.example.org"


@dataclass
class Tenant:
    """A Moodle platform with course 2 and its learner 3, on a database of its own."""

    app: Flask
    url: str
    registration_id: int
    person_id: int
    course_id: int
    headers: dict[str, str]


@pytest.fixture
def tenant(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Tenant]:
    service_url("VM_TEST_DATABASE_URL", "PostgreSQL")
    with own_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url, BROKER_URL="memory://")
        with app.app_context():
            flask_migrate.upgrade()
            registration, course = platform_course(db.session(), MOODLE, "Course 2")
            ana = Person(registration_id=registration.id, subject="3", name="Ana")
            db.session.add(ana)
            db.session.commit()
            made = credentials.create(db.session(), registration.id, "Moodle logstore")
            auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
            headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
            yield Tenant(app, url, registration.id, ana.id, course.id, headers)
            close_connections()


def _statement(**changes: Any) -> dict[str, Any]:
    statement = dict(json.loads(FIXTURE.read_text()))
    return {**copy.deepcopy(statement), "id": str(uuid.uuid4()), **changes}


def _count(tenant: Tenant, model: Any) -> int:
    with tenant.app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.integration
def test_a_new_batch_costs_two_round_trips_and_its_events_are_resolved(tenant: Tenant) -> None:
    sent: list[str] = []
    with tenant.app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def count(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
            sent.append(statement.split(maxsplit=1)[0])

        batch = [_statement() for _ in range(3)]
        client = tenant.app.test_client()
        response = client.post("/xapi/statements", json=batch, headers=tenant.headers)
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.json
    # The credential's read, then one statement; no BEGIN or COMMIT in autocommit.
    assert sent == ["SELECT", "WITH"]
    with tenant.app.app_context():
        rows = db.session.execute(select(LearningEvent.person_id, LearningEvent.course_id)).all()
    assert [tuple(row) for row in rows] == [(tenant.person_id, tenant.course_id)] * 3


def _race(tenant: Tenant, held: dict[str, Any], batch: list[dict[str, Any]]) -> Any:
    """Post ``batch`` while another transaction holds ``held`` stored but not committed."""
    plain = tenant.url.replace("postgresql+psycopg://", "postgresql://")
    answer: list[Any] = []
    with psycopg.connect(plain) as other:
        other.execute(
            "INSERT INTO xapi_statements (registration_id, statement_id, version, body, stored) "
            "VALUES (%s, %s, '1.0.3', %s, now())",
            (tenant.registration_id, held["id"], json.dumps({**held, "stored": "x"})),
        )

        def post() -> None:
            client = tenant.app.test_client()
            answer.append(client.post("/xapi/statements", json=batch, headers=tenant.headers))

        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(0.5)  # the post now waits on the uncommitted id
        assert answer == []
        other.commit()
        poster.join(timeout=10)
    return answer[0]


@pytest.mark.integration
def test_an_id_stored_meanwhile_with_the_same_content_is_accepted_once(tenant: Tenant) -> None:
    same, fresh = _statement(), _statement()
    response = _race(tenant, same, [fresh, same])
    assert response.status_code == 200, response.json
    assert response.json == [fresh["id"], same["id"]]
    assert _count(tenant, Statement) == 2


@pytest.mark.integration
def test_an_id_stored_meanwhile_with_other_content_refuses_the_whole_batch(
    tenant: Tenant,
) -> None:
    theirs, fresh = _statement(), _statement()
    mine = {**copy.deepcopy(theirs), "result": {"success": False}}
    response = _race(tenant, theirs, [fresh, mine])
    assert response.status_code == 409
    assert theirs["id"] in response.json["message"]
    assert _count(tenant, Statement) == 1  # theirs only: nothing of the refused batch
    assert _count(tenant, LearningEvent) == 0


@pytest.mark.integration
def test_two_hand_offs_at_once_hand_each_event_to_one_of_them(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = tenant.app.test_client()
    for _ in range(10):
        batch = [_statement() for _ in range(100)]
        assert (
            client.post("/xapi/statements", json=batch, headers=tenant.headers).status_code == 200
        )
    seen: list[list[int]] = [[], []]
    gate = threading.Barrier(2)

    def consumer_for(slot: int) -> Callable[[Session, Sequence[HandedEvent]], None]:
        def consume(session: Session, events: Sequence[HandedEvent]) -> None:
            seen[slot].extend(e.id for e in events)
            time.sleep(0.05)  # hold the batch's locks while the other claims

        return consume

    def worker(slot: int) -> None:
        with tenant.app.app_context():
            gate.wait()
            consumer = consumer_for(slot)
            handoff.hand_off(db.session(), batch=50, consumers=[consumer])

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    both = seen[0] + seen[1]
    assert len(both) == len(set(both)) == 1000  # every event once, by one of them
    assert seen[0]  # and they shared the work
    assert seen[1]
