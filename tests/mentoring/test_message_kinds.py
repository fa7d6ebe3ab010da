"""Surveys (Likert, choice, free text), sessions (time zones, RSVP with a capacity and a
waiting list, calendar files, attendance) and resources opened from the panel: what the
learner sees and does, what is stored, and what goes to the LRS."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from lti_tool.courses.models import Course, Person, Role
from lti_tool.lti import tokens
from lti_tool.mentoring import dispatch, journeys, links, meetings, outgoing, plans, surveys
from lti_tool.mentoring.models import Delivery, Response, Rsvp, RsvpAnswer
from tests.factories import EnrollmentFactory, PersonFactory
from tests.mentoring.conftest import Tenant
from xapi.models import OutboxStatement

SURVEY_ITEMS = [
    {"key": "useful", "kind": "likert", "prompt": "The course was useful"},
    {"key": "format", "kind": "choice", "prompt": "Next time I prefer",
     "choices": [{"key": "webinar", "label": "A webinar"}, {"key": "visit", "label": "A visit"}]},
    {"key": "more", "kind": "text", "prompt": "Anything else?"},
]  # fmt: skip
#: Tuesday 1 December 2026, 14:00 in Paris (13:00 UTC), an hour, two places.
SESSION = {"starts_at": "2026-12-01T14:00", "time_zone": "Europe/Paris", "duration_minutes": 60,
           "format": "office_hours", "place": "Room 4, Lyon office",
           "url": "https://meet.example.org/office-hours", "capacity": 2}  # fmt: skip


def _deliver(
    db: SQLAlchemy, tenant: Tenant, message: dict[str, Any], people: list[int] | None = None
) -> dict[int, int]:
    """Send one message to the learners (Ana by default) now; their delivery ids."""
    sequence, _rules = plans.store(db.session(), tenant.registration_id, {
        "name": "One message", "steps": [{"key": "only", "offset_days": 0, "message": message}],
    })  # fmt: skip
    people = people or [tenant.person_id]
    journeys.start(db.session(), [
        journeys.Start(sequence.id, tenant.course_id, person, "test") for person in people
    ])  # fmt: skip
    db.session.commit()
    dispatch.dispatch_due(db.session())
    found = db.session.execute(
        select(Delivery.person_id, Delivery.id).where(Delivery.person_id.in_(people),
                                                      Delivery.step_id.isnot(None))
        .order_by(Delivery.id)
    ).all()  # fmt: skip
    return dict(found)


def _learner(db: SQLAlchemy, tenant: Tenant, app: Flask, name: str) -> tuple[int, str]:
    """Another learner of Ana's course, and their launch token."""
    course = db.session.get(Course, tenant.course_id)
    person = PersonFactory(registration=db.session.get(Person, tenant.person_id).registration,
                           given_name=name, time_zone="UTC")  # fmt: skip
    EnrollmentFactory(course=course, person=person)
    db.session.commit()
    token = tokens.issue(tokens.LaunchContext(
        tenant.registration_id, course.deployment_id, course.id, person.id, Role.LEARNER,
    ), app.config["SECRET_KEY"])  # fmt: skip
    return person.id, token


def _sent(db: SQLAlchemy, *verbs: str) -> list[dict[str, Any]]:
    """Statements in the outbox with these verbs (their display words), oldest first."""
    return [row.body for row in db.session.scalars(
        select(OutboxStatement).where(OutboxStatement.kind.in_(verbs))
        .order_by(OutboxStatement.id)
    )]  # fmt: skip


# Surveys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "says"),
    [
        ([], "needs a list of items"),
        ([{"key": "a", "kind": "stars", "prompt": "Rate"}], "kind must be one of"),
        ([{"key": "a", "kind": "likert"}], "needs a prompt"),
        ([{"key": "a", "kind": "text", "prompt": "x"}, {"key": "a", "kind": "text",
                                                        "prompt": "y"}], "key must be unique"),
        ([{"key": "a", "kind": "likert", "prompt": "Rate", "scale": 11}], "2 to 10 points"),
        ([{"key": "a", "kind": "choice", "prompt": "Pick", "choices": [{"key": "x",
                                                                         "label": "X"}]}],
         "at least two choices"),
        ([{"key": "Bad Key", "kind": "text", "prompt": "x"}], "key must be unique"),
    ],
)  # fmt: skip
def test_a_survey_written_wrong_is_refused_naming_the_step_and_item(
    db: SQLAlchemy, tenant: Tenant, items: list[dict[str, Any]], says: str
) -> None:
    with pytest.raises(plans.PlanError, match=says) as refused:
        plans.store(db.session(), tenant.registration_id, {"name": "S", "steps": [
            {"key": "s", "message": {"kind": "survey", "details": {"items": items}}},
        ]})  # fmt: skip
    assert refused.value.message.startswith("Step 1")


def test_survey_answers_are_read_strictly() -> None:
    items = surveys.items_of({"items": surveys.check("Step 1", {"items": SURVEY_ITEMS})})
    assert [len(item.choices) for item in items] == [5, 2, 0]
    assert surveys.read(items, {"item-useful": "4", "item-format": "visit"}) == {
        "useful": 4, "format": "visit"}  # fmt: skip
    for form, says in [
        ({"item-format": "visit"}, "Please answer “The course was useful”"),
        ({"item-useful": "6", "item-format": "visit"}, "“6” is not one of the answers"),
        ({"item-useful": "4", "item-format": "bus"}, "“bus” is not one of the answers"),
        ({"item-useful": "4", "item-format": "visit", "item-more": "x" * 4001}, "longer than"),
    ]:
        with pytest.raises(surveys.IncompleteSurvey, match=says):
            surveys.read(items, form)


def test_a_learner_answers_a_survey_in_the_panel_once(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    survey = _deliver(db, tenant, {"kind": "survey", "title": "How was week 1?",
                                   "details": {"items": SURVEY_ITEMS}})  # fmt: skip
    survey = survey[tenant.person_id]
    page = client.get("/panel/", query_string={"lt": tenant.launch_token}).text
    assert "<legend>The course was useful</legend>" in page
    assert 'value="5"' in page
    assert "Strongly agree" in page
    assert "Anything else? (optional)" in page

    incomplete = client.post(f"/panel/survey/{survey}", data={
        "lt": tenant.launch_token, "item-format": "visit"})  # fmt: skip
    assert incomplete.status_code == 400
    assert "Please answer “The course was useful”" in incomplete.text
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0

    done = client.post(f"/panel/survey/{survey}", data={
        "lt": tenant.launch_token, "item-useful": "4", "item-format": "visit",
        "item-more": "<script>alert(1)</script>"})  # fmt: skip
    assert done.status_code == 303
    again = client.post(f"/panel/survey/{survey}", data={
        "lt": tenant.launch_token, "item-useful": "1", "item-format": "webinar"})  # fmt: skip
    assert again.status_code == 303
    page = client.get("/panel/", query_string={"lt": tenant.launch_token}).text
    assert "Thank you for your answers." in page
    assert "<dd>Agree</dd>" in page
    assert "<dd>A visit</dd>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    stored = db.session.scalars(select(Response)).one()
    assert stored.answers == {"useful": 4, "format": "visit", "more": "<script>alert(1)</script>"}
    [statement] = _sent(db, "responded")
    assert statement["result"]["response"].startswith(
        "The course was useful: 4 of 5 (Agree); Next time I prefer: A visit"
    )
    message_id = db.session.get(Delivery, survey).message_id
    counts = surveys.distribution(db.session(), message_id)
    assert counts["useful"]["4"] == 1
    assert counts["useful"]["5"] == 0
    assert counts["format"] == {"webinar": 0, "visit": 1}


def test_a_survey_is_not_answered_by_anyone_else_nor_with_one_click(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, app: Flask
) -> None:
    survey = _deliver(db, tenant, {"kind": "survey", "title": "Week 1",
                                   "details": {"items": SURVEY_ITEMS}})  # fmt: skip
    survey = survey[tenant.person_id]
    _ben, bens_token = _learner(db, tenant, app, "Ben")
    stolen = client.post(f"/panel/survey/{survey}", data={
        "lt": bens_token, "item-useful": "1", "item-format": "webinar"})  # fmt: skip
    assert stolen.status_code == 404
    one_click = client.post(links.path(survey, "submitted"))
    assert one_click.status_code == 400
    assert "open it in your mentor panel" in one_click.text
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


# Sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"starts_at": None}, "needs starts_at"),
        ({"time_zone": None}, "has no offset"),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone"),
        ({"starts_at": "next tuesday"}, "is not a date and time"),
        ({"ends_at": "2026-12-01T13:00"}, "must end after it starts"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"place": "", "url": None}, "needs a place, a url"),
        ({"url": "javascript:alert(1)"}, "http\\(s\\) address"),
        ({"capacity": 0}, "capacity is a whole number"),
        ({"format": "party"}, "format must be one of"),
    ],
)
def test_a_session_written_wrong_is_refused(
    db: SQLAlchemy, tenant: Tenant, changes: dict[str, Any], says: str
) -> None:
    details = {k: v for k, v in {**SESSION, **changes}.items() if v is not None}
    with pytest.raises(plans.PlanError, match=says):
        plans.store(db.session(), tenant.registration_id, {"name": "S", "steps": [
            {"key": "s", "message": {"kind": "session", "details": details}},
        ]})  # fmt: skip


def test_a_session_time_is_kept_as_an_instant_and_shown_in_each_zone() -> None:
    stored = meetings.check("Step 1", SESSION)
    assert stored["starts_at"] == "2026-12-01T13:00:00+00:00"
    assert stored["ends_at"] == "2026-12-01T14:00:00+00:00"
    meeting = meetings.Meeting.of(stored)
    assert meeting is not None
    assert meeting.when() == "Tuesday 1 December 2026, 14:00\u201315:00 (Europe/Paris)"
    assert meeting.when("America/New_York") == (
        "Tuesday 1 December 2026, 08:00\u201309:00 (America/New_York)")  # fmt: skip
    with_offset = meetings.check("Step 1", {**SESSION, "time_zone": None,
                                            "starts_at": "2026-12-01T14:00+01:00"})  # fmt: skip
    assert with_offset["starts_at"] == stored["starts_at"]


def test_rsvps_keep_to_the_capacity_and_the_waiting_list_gets_freed_places(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, app: Flask
) -> None:
    ben, bens_token = _learner(db, tenant, app, "Ben")
    cleo, cleos_token = _learner(db, tenant, app, "Cleo")
    sent = _deliver(db, tenant, {"kind": "session", "title": "Office hours",
                                 "details": {**SESSION, "capacity": 1}},
                    [tenant.person_id, ben, cleo])  # fmt: skip

    def answer(token: str, person: int, what: str) -> Any:
        return client.post(f"/panel/rsvp/{sent[person]}", data={"lt": token, "answer": what})

    assert answer(tenant.launch_token, tenant.person_id, "going").status_code == 303
    assert answer(bens_token, ben, "going").status_code == 303
    assert answer(cleos_token, cleo, "going").status_code == 303
    bens_page = client.get("/panel/", query_string={"lt": bens_token}).text
    assert "Your answer: On the waiting list (number 1)" in bens_page
    assert "0 of 1 left" in bens_page
    cleos_page = client.get("/panel/", query_string={"lt": cleos_token}).text
    assert "On the waiting list (number 2)" in cleos_page

    assert answer(tenant.launch_token, tenant.person_id, "not_going").status_code == 303
    answers = dict(db.session.execute(select(Rsvp.person_id, Rsvp.answer)).all())
    assert answers == {tenant.person_id: RsvpAnswer.NOT_GOING, ben: RsvpAnswer.GOING,
                       cleo: RsvpAnswer.WAITLISTED}  # fmt: skip
    assert "Your answer: I&#39;ll be there" in client.get(
        "/panel/", query_string={"lt": bens_token}).text  # fmt: skip
    said = [
        (s["verb"]["id"].rsplit("/", 1)[-1], s["result"]["response"])
        for s in _sent(db, "registered", "unregistered")
    ]
    assert said == [("registered", "going"), ("registered", "waitlisted"),
                    ("registered", "waitlisted"), ("unregistered", "not going"),
                    ("registered", "going")]  # fmt: skip

    wrong = answer(bens_token, ben, "perhaps")
    assert wrong.status_code == 400
    assert "choose going, maybe or not_going" in wrong.text
    stolen = answer(bens_token, tenant.person_id, "going")
    assert stolen.status_code == 404


def test_answers_close_when_the_session_starts(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    sent = _deliver(db, tenant, {"kind": "session", "title": "Office hours", "details": SESSION})
    tenant.clock.at = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    late = client.post(f"/panel/rsvp/{sent[tenant.person_id]}",
                       data={"lt": tenant.launch_token, "answer": "going"})  # fmt: skip
    assert late.status_code == 409
    assert "has already started, so answers to it are closed" in late.text
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 0
    page = client.get("/panel/", query_string={"lt": tenant.launch_token}).text
    assert "This session has started; answers are closed." in page


def test_the_calendar_file_is_the_session_for_its_learner_only(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, app: Flask
) -> None:
    delivery = _deliver(db, tenant, {"kind": "session", "title": "Office hours",
                                     "body": "Bring a question.", "details": SESSION})[
        tenant.person_id]  # fmt: skip
    got = client.get(f"/panel/calendar/{delivery}.ics", query_string={"lt": tenant.launch_token})
    assert got.status_code == 200
    assert got.mimetype == "text/calendar"
    assert "attachment" in got.headers["Content-Disposition"]
    [event] = icalendar.Calendar.from_ical(got.data).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert str(event["summary"]) == "Office hours"
    assert str(event["location"]) == "Room 4, Lyon office"
    assert "Bring a question." in str(event["description"])
    assert "Join: https://meet.example.org/office-hours" in str(event["description"])
    _ben, bens_token = _learner(db, tenant, app, "Ben")
    other = client.get(f"/panel/calendar/{delivery}.ics", query_string={"lt": bens_token})
    assert other.status_code == 404


def test_the_session_email_says_when_and_where_and_answers_in_one_click(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    delivery = _deliver(db, tenant, {"kind": "session", "title": "Office hours",
                                     "details": SESSION})[tenant.person_id]  # fmt: skip
    [email] = outgoing.build(db.session(), [delivery])
    assert "When: Tuesday 1 December 2026, 13:00\u201314:00 (UTC)" in email.text  # Ana is in UTC
    assert "Where: Room 4, Lyon office" in email.text
    assert "Join: https://meet.example.org/office-hours" in email.text
    assert [label for label, _url in email.answer_links] == [
        "I'll be there", "Maybe", "I can't come"]  # fmt: skip
    calendar = next(line.split(" ")[-1] for line in email.text.splitlines()
                    if line.startswith("Calendar:"))  # fmt: skip
    path = calendar.removeprefix("https://mentor.example.org")
    assert client.get(path).mimetype == "text/calendar"
    assert client.get(path.replace(".ics", "x.ics")).status_code == 400

    going = client.post(email.answer_links[0][1].removeprefix("https://mentor.example.org"))
    assert going.status_code == 200
    assert "your answer “I&#39;ll be there” is recorded" in going.text
    assert db.session.scalars(select(Rsvp.answer)).one() == RsvpAnswer.GOING


def test_attendance_is_recorded_and_told_to_the_lrs_once(db: SQLAlchemy, tenant: Tenant) -> None:
    delivery = _deliver(db, tenant, {"kind": "session", "title": "Office hours",
                                     "details": SESSION})[tenant.person_id]  # fmt: skip
    message_id = db.session.get(Delivery, delivery).message_id
    tenant.clock.at = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    assert meetings.mark_attended(db.session(), message_id, tenant.course_id,
                                  [tenant.person_id, tenant.person_id]) == 1  # fmt: skip
    assert meetings.mark_attended(db.session(), message_id, tenant.course_id,
                                  [tenant.person_id]) == 0  # fmt: skip
    [statement] = _sent(db, "attended")
    assert statement["result"]["duration"] == "PT01H00M00S"  # an hour, as tincan writes it
    assert db.session.scalars(select(Rsvp)).one().answer is None  # came without answering
    with pytest.raises(meetings.NotFound):
        meetings.mark_attended(db.session(), message_id, tenant.course_id, [999_999])


# Resources --------------------------------------------------------------------------------


def test_opening_a_resource_goes_to_its_own_address_and_tells_the_lrs(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, app: Flask
) -> None:
    delivery = _deliver(db, tenant, {
        "kind": "resource", "title": "Listening in practice",
        "details": {"url": "https://video.example.org/listening", "type": "video"}},
    )[tenant.person_id]  # fmt: skip
    page = client.get("/panel/", query_string={"lt": tenant.launch_token}).text
    assert f"/panel/open/{delivery}?lt=" in page
    opened = client.get(f"/panel/open/{delivery}", query_string={
        "lt": tenant.launch_token, "next": "https://evil.example"})  # fmt: skip
    assert opened.status_code == 303
    assert opened.headers["Location"] == "https://video.example.org/listening"
    [statement] = _sent(db, "opened")
    assert statement["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/media"
    _ben, bens_token = _learner(db, tenant, app, "Ben")
    assert client.get(f"/panel/open/{delivery}", query_string={"lt": bens_token}).status_code == 404
    tenant.clock.advance(timedelta(seconds=1))


def test_the_example_plan_in_the_docs_loads(db: SQLAlchemy, tenant: Tenant) -> None:
    """docs/examples/plan.toml, which the README points newcomers to, is a valid plan."""
    example = Path(__file__).parents[2] / "docs" / "examples" / "plan.toml"
    sequence, found = plans.store(db.session(), tenant.registration_id,
                                  tomllib.loads(example.read_text()))  # fmt: skip
    assert sequence.name == "Active listening follow-up"
    assert sequence.topic_id == tenant.topic_id  # named in the file, found on the platform
    assert len(found) == 1


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"topic": "Negotiation"}, "There is no topic “Negotiation” on this platform"),
        ({"topic": 999_999}, "There is no topic #999999 on this platform"),
        ({"topic": None}, "Step 1 says {topic}, but the plan names no topic"),
    ],
)
def test_a_plan_names_a_topic_of_its_platform_when_it_says_topic(
    db: SQLAlchemy, tenant: Tenant, changes: dict[str, Any], says: str
) -> None:
    plan = {"name": "P", "topic": tenant.topic_id, "steps": [
        {"key": "tip", "message": {"kind": "tip", "title": "On {topic}"}}], **changes}  # fmt: skip
    with pytest.raises(plans.PlanError, match=says):
        plans.store(db.session(), tenant.registration_id, plan)
