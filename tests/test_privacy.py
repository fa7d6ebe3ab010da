"""Export and erasure of one person's data (lti_tool.privacy), checked against every table.

The world is the authorization matrix's (tests/helpers/authz.py): Ana, a learner of course A
with delivered messages, a question thread, an RSVP and an agreement with her mentor Mo; Bo,
another learner of the course. Here Ana also answers a question and a survey, Mo replies to
her, statements name her (by account and by email) through the statement endpoint, an event
names her unresolved, one of her outbox statements has reached the LRS, and the launch
storage holds her id_token. Bo gets a journey, a thread Mo answered, a statement and
preferences of his own, all of which must come through Ana's erasure untouched.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, select, update

from lti_tool import clock
from lti_tool.courses.models import Person
from lti_tool.database import Base
from lti_tool.events.models import EventSource, LearningEvent
from lti_tool.events.services import origin
from lti_tool.lti.models import StoredValue
from lti_tool.mentoring import answers, journeys
from lti_tool.mentoring.models import LearnerPreference
from lti_tool.mentors.models import MentoringAgreement, MentorProfile, Mentorship
from lti_tool.panel import own
from lti_tool.privacy import erasure, subjects
from lti_tool.privacy.export import export
from lti_tool.threads import services as threads
from lti_tool.threads.models import Post, Thread
from tests.helpers.authz import SECRETS, build
from xapi import credentials
from xapi.models import OutboxStatement, Statement

BO_SECRET = "Bo's own question 9B"


@dataclass
class Rich:
    """Ana's and Bo's ids and what names them."""

    ana: int
    bo: int
    mo: int
    registration_id: int
    names: dict[int, list[str]]  # person id -> subject, email, name: strings that name them


def _statement(actor: dict[str, Any], activity: str) -> dict[str, Any]:
    return {"actor": {"objectType": "Agent", **actor},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"objectType": "Activity", "id": activity}}  # fmt: skip


@pytest.fixture
def rich(db: SQLAlchemy, app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> Rich:
    """The world of the module's docstring."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    world = build(db, app)
    session = db.session()
    ana, bo, mo = (world.ids[f"person_{k}"] for k in ("owner", "peer", "mentor"))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([ana, bo, mo])))}
    registration = people[ana].registration
    site = origin(registration.issuer)
    answers.record(session, world.ids["question"], "yes", via="panel", text="Applied it, Ana")
    answers.record_survey(session, world.ids["survey"], {"item-useful": "4", "item-more": "Ana"},
                          via="panel")  # fmt: skip
    threads.reply(session, world.ids["thread"], mo, "Mo's answer to Ana")
    journeys.start(session, [journeys.Start(world.ids["sequence"], world.a.id, bo, "test")])
    bo_thread = threads.ask(session, world.a.id, bo, BO_SECRET)
    threads.reply(session, bo_thread.id, mo, "Mo's answer to Bo")
    bo_thread.escalated_at, bo_thread.escalated_to = clock.now(), [mo]
    session.add_all([LearnerPreference(person_id=ana, opted_out=["tip"]),
                     LearnerPreference(person_id=bo, opted_out=["survey"])])  # fmt: skip
    session.add(LearningEvent(
        idempotency_key="unresolved-ana", registration_id=registration.id, person_id=None,
        actor={"mbox": f"mailto:{people[ana].email}"}, verb="http://adlnet.gov/expapi/verbs/x",
        activity_id="https://lms.example.org/x", occurred_at=clock.now(), source=EventSource.XAPI,
        raw={"actor": {"mbox": f"mailto:{people[ana].email}"}},
    ))  # fmt: skip
    for person in (ana, bo):
        stored = {"id_token": {"sub": people[person].subject, "email": people[person].email}}
        session.add(StoredValue(key=f"launch:{person}", value=stored,
                                expires_at=clock.now() + timedelta(hours=1)))  # fmt: skip
    session.commit()
    made = credentials.create(session, registration.id, "Moodle logstore")
    auth = base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    batch = [
        _statement({"account": {"homePage": site, "name": people[ana].subject}}, "https://a/1"),
        _statement({"mbox": f"mailto:{people[ana].email}"}, "https://a/2"),
        _statement({"account": {"homePage": site, "name": people[bo].subject}}, "https://b/1"),
    ]
    sent = client.post("/xapi/statements", json=batch, headers={
        "Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"})  # fmt: skip
    assert sent.status_code == 200, sent.json
    first = session.scalars(select(OutboxStatement.id).order_by(OutboxStatement.id)).first()
    session.execute(update(OutboxStatement).where(OutboxStatement.id == first)
                    .values(delivered_at=clock.now()))  # fmt: skip
    session.commit()
    names = {p.id: [p.subject, str(p.email), str(p.name)] for p in people.values()}
    return Rich(ana, bo, mo, registration.id, names)


def _mentions(db: SQLAlchemy, person_id: int, names: list[str]) -> set[str]:
    """Every row of every table that names the person: by a foreign key to people, by their
    id in a JSON list of people, or by their subject, email or name in a text or JSON column."""
    pointing = {(t.name, c.name) for t, c in subjects.person_columns()}
    pointing |= {("people", "id"), ("threads", "escalated_to")}
    found = set()
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            if any(_names(table.name, column, row[column.name], pointing, person_id, names)
                   for column in table.columns):  # fmt: skip
                found.add(f"{table.name}: {sorted((k, repr(v)) for k, v in row.items())}")
    db.session.rollback()
    return found


def _names(
    table: str, column: Any, value: Any, pointing: set[tuple[str, str]], person_id: int,
    names: list[str],
) -> bool:  # fmt: skip
    """Whether one cell names the person."""
    if (table, column.name) in pointing:
        return value == person_id or (isinstance(value, list) and person_id in value)
    if isinstance(column.type, JSON) and value is not None:
        text = json.dumps(value, ensure_ascii=False)
        return any(json.dumps(name) in text or f"mailto:{name}" in text for name in names)
    if isinstance(value, str):
        return any(value == name or (len(name) > 6 and name in value) for name in names)
    return False


def test_erasing_a_learner_leaves_nothing_of_her_and_all_of_another(
    db: SQLAlchemy, rich: Rich
) -> None:
    ana_names = [*rich.names[rich.ana], *SECRETS[:1], SECRETS[2], "Applied it, Ana"]
    before_ana = _mentions(db, rich.ana, ana_names)
    before_bo = _mentions(db, rich.bo, [*rich.names[rich.bo], BO_SECRET])
    tables = {row.split(":")[0] for row in before_ana}
    assert {"people", "enrollments", "learning_events", "xapi_statements", "xapi_outbox",
            "mentoring_deliveries", "mentoring_journeys", "mentoring_responses",
            "mentoring_rsvps", "threads", "thread_posts", "mentoring_preferences",
            "mentorships", "mentoring_agreements", "lti_storage"} <= tables  # fmt: skip

    done = erasure.erase(db.session(), subjects.find(db.session(), person_id=rich.ana))

    assert _mentions(db, rich.ana, ana_names) == set()
    assert _mentions(db, rich.bo, [*rich.names[rich.bo], BO_SECRET]) == before_bo
    assert not done.anonymised
    assert done.already_sent == 1
    assert "cannot recall" in done.notice()
    # Mo's reply went with Ana's thread; his reply to Bo, his profile and his row stay.
    assert db.session.scalars(select(Post.body).where(Post.author_id == rich.mo)).all() == [
        "Mo's answer to Bo"
    ]
    assert db.session.get(Person, rich.mo) is not None


def test_erasing_a_mentor_keeps_what_he_wrote_for_learners_without_his_name(
    db: SQLAlchemy, rich: Rich
) -> None:
    done = erasure.erase(db.session(), subjects.find(db.session(), person_id=rich.mo))

    assert done.anonymised
    assert _mentions(db, rich.mo, rich.names[rich.mo]) == {
        row for row in _mentions(db, rich.mo, []) if row.startswith(("people", "thread_posts",
                                                                    "mentoring_agreements"))
    }  # fmt: skip
    author = db.session.get_one(Person, rich.mo)
    assert (author.name, author.email, author.given_name) == (None, None, None)
    assert author.subject.startswith("erased:")
    assert len(db.session.scalars(select(Post).where(Post.author_id == rich.mo)).all()) == 2
    assert db.session.scalars(select(MentoringAgreement.goals)).all() == [SECRETS[2]]
    assert db.session.scalars(select(Mentorship)).all() == []
    assert db.session.scalars(select(MentorProfile).where(
        MentorProfile.person_id == rich.mo)).all() == []  # fmt: skip
    assert {t.mentor_id for t in db.session.scalars(select(Thread))} == {None}
    bo_thread = db.session.scalars(select(Thread).where(Thread.learner_id == rich.bo)).one()
    assert bo_thread.escalated_to == []
    assert rich.mo not in own.author_names(db.session(), bo_thread)  # the page says "Your mentor"


def test_the_export_holds_every_section_of_the_learner_and_nothing_of_another(
    db: SQLAlchemy, rich: Rich
) -> None:
    document = export(db.session(), subjects.find(db.session(), person_id=rich.ana))

    assert document["person"]["subject"] == rich.names[rich.ana][0]
    sections = document["sections"]
    for name in (
        "enrollments",
        "learning_events",
        "xapi_statements",
        "mentoring_deliveries",
        "messages_as_seen",
        "mentoring_responses",
        "mentoring_rsvps",
        "threads",
        "thread_posts",
        "mentoring_preferences",
        "mentorships",
        "mentoring_agreements",
        "mentoring_journeys",
        "xapi_outbox",
        "timeline",
    ):
        assert sections[name], f"the export's {name} section is empty"
    assert len(sections["xapi_statements"]) == 2  # by account and by email
    assert {e["idempotency_key"] for e in sections["learning_events"]} >= {"unresolved-ana"}
    assert {p["body"] for p in sections["thread_posts"]} >= {SECRETS[0], "Mo's answer to Ana"}
    survey = {"useful": 4, "more": "Ana"}
    assert any(r["answers"] == survey for r in sections["mentoring_responses"])
    text = json.dumps(document, ensure_ascii=False)
    for name in [*rich.names[rich.bo], BO_SECRET, "Mo's answer to Bo"]:
        assert name not in text


def test_the_commands_export_by_platform_and_subject_and_erase_only_when_confirmed(
    db: SQLAlchemy, runner: FlaskCliRunner, rich: Rich, tmp_path: Any
) -> None:
    subject = rich.names[rich.ana][0]
    out = tmp_path / "ana.json"
    exported = runner.invoke(args=["privacy", "export", "--registration",
                                   str(rich.registration_id), "--subject", subject,
                                   "--out", str(out)])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["person"]["id"] == rich.ana

    refused = runner.invoke(args=["privacy", "delete", "--person", str(rich.ana)])
    assert refused.exit_code != 0
    assert "--yes" in refused.output
    assert db.session.get(Person, rich.ana) is not None

    erased = runner.invoke(args=["privacy", "delete", "--person", str(rich.ana), "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "cannot recall them" in erased.output
    db.session.expire_all()
    assert db.session.get(Person, rich.ana) is None

    missing = runner.invoke(args=["privacy", "export", "--person", str(rich.ana)])
    assert missing.exit_code != 0
    assert f"There is no person {rich.ana}." in missing.output


def test_someone_who_never_launched_is_found_and_erased_by_platform_and_subject(
    db: SQLAlchemy, rich: Rich
) -> None:
    site = origin(db.session.get_one(Person, rich.ana).registration.issuer)
    ghost = _statement({"account": {"homePage": site, "name": "ghost-77"}}, "https://g/1")
    db.session.add(Statement(registration_id=rich.registration_id, statement_id="ghost",
                             version="1.0.3", body=ghost, stored=clock.now()))  # fmt: skip
    db.session.commit()
    who = subjects.find(db.session(), registration_id=rich.registration_id, subject="ghost-77")
    assert who.person_id is None
    assert [
        s["statement_id"] for s in export(db.session(), who)["sections"]["xapi_statements"]
    ] == ["ghost"]
    before_ana = _mentions(db, rich.ana, rich.names[rich.ana])

    assert erasure.erase(db.session(), who).rows["xapi_statements"] == 1

    assert _mentions(db, rich.ana, rich.names[rich.ana]) == before_ana
    assert (
        db.session.scalars(select(Statement).where(Statement.statement_id == "ghost")).all() == []
    )
