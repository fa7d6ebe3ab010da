"""The console's plan pages: what a course sees, creating, copying, editing, previewing,
switching and dry-running, each within the launch's course and registration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.courses.models import Course, Role
from lti_tool.lti import tokens
from lti_tool.mentoring import plans
from lti_tool.mentoring.models import (
    Delivery,
    Journey,
    Message,
    Sequence,
    Step,
    TriggerRule,
)
from lti_tool.topics.models import Topic
from lti_tool.topics.services import add_topic
from tests.console.test_plan_form import form
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    PersonFactory,
)
from tests.mentoring import conftest as mentoring
from tests.mentoring.conftest import Tenant, plan

#: The Moodle tenant of the engine's tests (course, learner Ana, topic "Active listening").
tenant = mentoring.tenant

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "plan.toml"


@pytest.fixture
def lt(app: Flask, db: SQLAlchemy, tenant: Tenant) -> str:
    """A mentor's launch token in the tenant's course."""
    return _token(app, db, tenant.course_id, Role.MENTOR)


def _token(app: Flask, db: SQLAlchemy, course_id: int, role: Role) -> str:
    course = db.session.get_one(Course, course_id)
    registration = course.deployment.registration
    person = PersonFactory(registration=registration, name="Maya Okafor")
    EnrollmentFactory(course=course, person=person, role=role)
    db.session.commit()
    context = tokens.LaunchContext(
        registration.id, course.deployment_id, course.id, person.id, role
    )
    return tokens.issue(context, app.config["SECRET_KEY"])


def _store(db: SQLAlchemy, registration_id: int, course_id: int | None, **changes: Any) -> int:
    """Store the engine tests' plan (about the platform's topic unless told otherwise)."""
    topic = db.session.scalar(select(Topic.id).where(Topic.registration_id == registration_id))
    if topic is None:
        topic = add_topic(db.session(), registration_id, "Active listening").id
    changes.setdefault("topic", topic)
    sequence, _rules = plans.store(db.session(), registration_id, plan(**changes),
                                   course_id=course_id)  # fmt: skip
    db.session.commit()
    return sequence.id


def _count(db: SQLAlchemy, model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _ids(db: SQLAlchemy, sequence_id: int) -> tuple[int, int]:
    step = db.session.scalars(select(Step).where(Step.sequence_id == sequence_id)).first()
    rule = db.session.scalars(
        select(TriggerRule).where(TriggerRule.sequence_id == sequence_id)
    ).first()
    assert step is not None
    assert rule is not None
    return step.id, rule.id


def _page(client: FlaskClient, path: str, lt: str) -> str:
    response = client.get(path, query_string={"lt": lt})
    assert response.status_code == 200, response.text
    return response.text


def test_a_course_sees_its_own_and_its_librarys_plans_and_nothing_else(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    _store(db, tenant.registration_id, tenant.course_id, name="Our own plan")
    _store(db, tenant.registration_id, None, name="The library's plan")
    course = db.session.get_one(Course, tenant.course_id)
    sibling = CourseFactory(deployment=course.deployment)
    elsewhere = CourseFactory()
    db.session.commit()
    other_registration = elsewhere.deployment.registration_id
    hidden = [_store(db, tenant.registration_id, sibling.id, name="A sibling course's plan"),
              _store(db, other_registration, None, name="Another org's plan")]  # fmt: skip
    page = _page(client, "/console/plans", lt)
    assert "Our own plan" in page
    assert "The library&#39;s plan" in page
    assert "sibling" not in page
    assert "Another org" not in page
    assert "Welcome, {first_name}" in page
    assert "after 7 days" in page
    assert "only by a branch" in page
    for sequence_id in hidden:
        step_id, rule_id = _ids(db, sequence_id)
        for method, path in [
            ("get", f"/console/plans/{sequence_id}/preview"),
            ("get", f"/console/plans/{sequence_id}/steps/{step_id}"),
            ("post", f"/console/plans/{sequence_id}/steps/{step_id}"),
            ("post", f"/console/plans/{sequence_id}/copy"),
            ("post", f"/console/plans/rules/{rule_id}/switch"),
            ("get", f"/console/plans/rules/{rule_id}/dry-run"),
        ]:
            data = {"lt": lt, "on": "1", "title": "Taken over"}
            response = getattr(client, method)(path, data=data, query_string={"lt": lt})
            assert response.status_code == 404, path
    assert _count(db, Sequence) == 4
    assert db.session.scalars(select(TriggerRule.switched_on_at)).all() == [None] * 4
    assert "Taken over" not in db.session.scalars(select(Message.title)).all()


def test_a_learner_cannot_reach_the_plans(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    sequence_id = _store(db, tenant.registration_id, tenant.course_id)
    _step_id, rule_id = _ids(db, sequence_id)
    lt = tenant.launch_token
    assert client.get("/console/plans", query_string={"lt": lt}).status_code == 403
    assert client.post("/console/plans/new", data={**form(), "lt": lt}).status_code == 403
    assert client.post(f"/console/plans/rules/{rule_id}/switch",
                       data={"lt": lt, "on": "1"}).status_code == 403  # fmt: skip
    assert _count(db, Sequence) == 1


def test_a_plan_made_with_the_form_is_stored_in_the_course_switched_off(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    data = {**form(topic=str(tenant.topic_id)), "lt": lt}
    response = client.post("/console/plans/new", data=data)
    assert response.status_code == 303
    sequence = db.session.scalars(select(Sequence)).one()
    assert (sequence.name, sequence.course_id, sequence.topic_id) == (
        "Listening", tenant.course_id, tenant.topic_id)  # fmt: skip
    assert f"#plan-{sequence.id}" in response.location
    rule = db.session.scalars(select(TriggerRule)).one()
    assert (rule.course_id, rule.completion, rule.score_min, rule.switched_on_at) == (
        tenant.course_id, True, 0.5, None)  # fmt: skip
    question = db.session.scalars(select(Message).where(Message.kind == "question")).one()
    assert [c["label"] for c in question.choices] == ["Yes", "Not yet"]
    page = _page(client, "/console/plans", lt)
    assert "Applied it?" in page
    assert "Switch on" in page
    assert "Active listening" in page


@pytest.mark.parametrize(("changes", "sentence"), [
    ({"name": ""}, "A plan needs a name"),
    ({"step-1-offset": "soon"}, "the offset is a number of days from 0 to 3650, not “soon”"),
    ({"step-1-answers": ""}, "Step 2: a question offers its answers"),
    ({"step-1-answers": "Yes please"}, "write each answer on its own line"),
    ({"step-1-key": "welcome"}, "each step needs its own key"),
    ({"step-1-kind": "resource", "step-1-answers": "", "step-1-url": "ftp://x"},
     "must be a web address"),
    ({"score_min": "80"}, "lowest score is a number from 0 to 1"),
    ({"topic": "999999"}, "There is no topic 999999"),
])  # fmt: skip
def test_a_bad_form_is_refused_and_kept(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str, changes: dict[str, str],
    sentence: str,
) -> None:  # fmt: skip
    data = {**form(**changes), "step-0-body": "Kept <b>as typed</b>", "lt": lt}
    response = client.post("/console/plans/new", data=data)
    assert response.status_code == 400
    assert sentence in response.text.replace("&#34;", '"')
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in response.text
    assert 'value="Applied it?"' in response.text
    assert (_count(db, Sequence), _count(db, Message), _count(db, TriggerRule)) == (0, 0, 0)


def test_a_shared_plan_goes_to_the_library_with_a_library_topic_only(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    ours = add_topic(db.session(), tenant.registration_id, "Our topic", course_id=tenant.course_id)
    refused = client.post("/console/plans/new",
                          data={**form(topic=str(ours.id), share="on"), "lt": lt})  # fmt: skip
    assert refused.status_code == 400
    assert "a topic of this course only" in refused.text
    assert _count(db, Sequence) == 0
    shared = {**form(topic=str(tenant.topic_id), share="on"), "lt": lt}
    assert client.post("/console/plans/new", data=shared).status_code == 303
    sequence = db.session.scalars(select(Sequence)).one()
    assert sequence.course_id is None
    assert db.session.scalars(select(TriggerRule.course_id)).all() == [None]


def test_a_pasted_toml_plan_is_stored_and_bad_toml_refused(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    bad = client.post("/console/plans/new", data={"mode": "toml", "toml": "name = ", "lt": lt})
    assert bad.status_code == 400
    assert "The TOML cannot be read" in bad.text
    assert "name = </textarea>" in bad.text
    alien = 'name = "X"\ntopic = 999999\n[[steps]]\nmessage = { title = "Hi" }\n'
    response = client.post("/console/plans/new", data={"mode": "toml", "toml": alien, "lt": lt})
    assert response.status_code == 400
    assert "There is no topic 999999" in response.text
    wrong = 'name = "X"\n[[steps]]\noffset_days = "soon"\n'
    response = client.post("/console/plans/new", data={"mode": "toml", "toml": wrong, "lt": lt})
    assert response.status_code == 400
    assert "wrong type" in response.text
    assert _count(db, Sequence) == 0
    good = {"mode": "toml", "toml": EXAMPLE.read_text(), "lt": lt}
    assert client.post("/console/plans/new", data=good).status_code == 303
    sequence = db.session.scalars(select(Sequence)).one()
    assert (sequence.name, sequence.course_id) == ("Active listening follow-up", tenant.course_id)
    assert _count(db, Step) == 6


def test_use_in_this_course_copies_a_library_plan_with_its_rules_off(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    library_id = _store(db, tenant.registration_id, None, name="Shared", topic=tenant.topic_id)
    response = client.post(f"/console/plans/{library_id}/copy", data={"lt": lt})
    assert response.status_code == 303
    copy = db.session.scalars(select(Sequence).where(Sequence.id != library_id)).one()
    assert (copy.name, copy.course_id, copy.topic_id) == ("Shared", tenant.course_id,
                                                          tenant.topic_id)  # fmt: skip
    steps = db.session.scalars(select(Step).where(Step.sequence_id == copy.id)).all()
    assert sorted(s.key for s in steps) == ["ask", "resource", "tip", "welcome"]
    originals = db.session.scalars(select(Step.message_id).where(Step.sequence_id == library_id))
    assert not {s.message_id for s in steps} & set(originals)
    ask = next(s for s in steps if s.key == "ask")
    assert ask.branches["not_yet"][0] == {"do": "send", "step": "resource", "after_seconds": 0}
    rule = db.session.scalars(select(TriggerRule).where(TriggerRule.sequence_id == copy.id)).one()
    assert (rule.course_id, rule.switched_on_at, rule.completion) == (tenant.course_id, None, True)
    assert client.post(f"/console/plans/{copy.id}/copy", data={"lt": lt}).status_code == 404


def test_an_edited_message_is_previewed_sanitised(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    sequence_id = _store(db, tenant.registration_id, None, topic=tenant.topic_id)
    ask = db.session.scalars(select(Step).where(Step.key == "ask")).one()
    path = f"/console/plans/{sequence_id}/steps/{ask.id}"
    assert "yes: Yes\nnot_yet: Not yet\nhelp: I need help" in _page(client, path, lt)
    body = "Hi {first_name}, <script>alert(1)</script> from **{mentor}** on {topic}."
    dropped = client.post(path, data={"lt": lt, "title": "Still?", "body": body,
                                      "answers": "yes: Yes\nnot_yet: Not yet"})  # fmt: skip
    assert dropped.status_code == 400
    assert "act on the answer “help”" in dropped.text
    assert "Still?" in dropped.text
    assert db.session.get_one(Message, ask.message_id).title == "Have you applied {topic}?"
    answers = "yes: Yes!\nnot_yet: Not yet\nhelp: Help"
    response = client.post(path, data={"lt": lt, "title": "Still on {topic}?", "body": body,
                                       "answers": answers})  # fmt: skip
    assert response.status_code == 303
    message = db.session.get_one(Message, ask.message_id)
    assert (message.title, message.choices[0]["label"]) == ("Still on {topic}?", "Yes!")
    preview = _page(client, f"/console/plans/{sequence_id}/preview", lt)
    assert "<script>alert" not in preview
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview
    assert "Hi Ana," in preview
    assert "<strong>Maya Okafor</strong>" in preview
    assert "Still on Active listening?" in preview
    assert "Yes!" in preview
    empty = client.post(path, data={"lt": lt, "title": " ", "body": ""})
    assert empty.status_code == 400
    assert "a title needs 1 to 255 characters" in empty.text


def test_a_course_rule_is_switched_on_and_off_and_a_library_rule_is_not(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    _step_id, rule_id = _ids(db, _store(db, tenant.registration_id, tenant.course_id))
    switch = f"/console/plans/rules/{rule_id}/switch"
    assert client.post(switch, data={"lt": lt, "on": "1"}).status_code == 303
    rule = db.session.get_one(TriggerRule, rule_id)
    db.session.refresh(rule)
    assert rule.switched_on_at == tenant.clock.at
    assert rule.switched_off_at is None
    assert "Switch off" in _page(client, "/console/plans", lt)
    assert client.post(switch, data={"lt": lt, "on": "0"}).status_code == 303
    db.session.refresh(rule)
    assert rule.switched_off_at == tenant.clock.at
    _step_id, library_rule = _ids(db, _store(db, tenant.registration_id, None))
    refused = client.post(f"/console/plans/rules/{library_rule}/switch", data={"lt": lt, "on": "1"})
    assert refused.status_code == 403
    assert "use the plan in this course" in refused.text
    assert db.session.get_one(TriggerRule, library_rule).switched_on_at is None


def test_a_dry_run_lists_who_would_get_what_and_writes_nothing(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, lt: str
) -> None:
    sequence_id = _store(db, tenant.registration_id, tenant.course_id, topic=tenant.topic_id)
    _step_id, rule_id = _ids(db, sequence_id)
    path = f"/console/plans/rules/{rule_id}/dry-run"
    assert "Nobody in this course would get anything." in _page(client, path, lt)
    assert tenant.post(client).status_code == 200  # Ana completed the quiz
    tenant.later(db)  # handed off; the rule is off, so nothing starts
    page = _page(client, path, lt)
    assert "3 messages" in page
    assert page.count("<td>Ana ") == 3
    for step in ("welcome", "tip", "ask"):
        assert f"<td>{step}</td>" in page
    assert "2026-11-26 08:00 UTC" in page  # the question, a week from now
    assert (_count(db, Journey), _count(db, Delivery)) == (0, 0)
