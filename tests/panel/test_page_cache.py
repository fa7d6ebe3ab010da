"""The panel's page cache: a learner reading her panel again gets the page kept from last
time, with a fresh launch token and script nonce, and never a page that no longer tells the
truth: everything that changes what she sees shows on her very next view, whichever web
process made the change; what the tool is not told about shows within VM_PANEL_CACHE_SECONDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select, update

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Role
from lti_tool.lti import tokens
from lti_tool.mentoring import dispatch, journeys, library, meetings, plans, preferences
from lti_tool.mentoring.models import Delivery, Message, MessageKind, Step
from lti_tool.mentors import agreements, pairing, profiles
from lti_tool.mentors.models import MentorProfile
from lti_tool.panel.cache import page_cache
from lti_tool.threads import services as threads
from lti_tool.threads.models import Thread
from tests.factories import EnrollmentFactory
from tests.panel.conftest import People

CHOICES = [{"key": "yes", "label": "Yes"}, {"key": "no", "label": "Not yet"}]
#: A question and an office hour for five, starting the day after the test's clock.
PLAN = {"name": "Front desk", "steps": [
    {"key": "ask", "offset_days": 0, "message": {
        "kind": "question", "title": "Have you tried it?", "choices": CHOICES}},
    {"key": "meet", "offset_days": 0, "message": {
        "kind": "session", "title": "Office hours", "body": "Bring a call.",
        "details": {"starts_at": "2026-11-25T09:00", "time_zone": "UTC",
                    "format": "office_hours", "place": "Room 4", "capacity": 5}}},
]}  # fmt: skip
NONCE = re.compile(r"'nonce-([^']+)'")


@pytest.fixture
def course(people: People, db: SQLAlchemy) -> People:
    """Ana and Ben each got the question and the invitation (read once already)."""
    registration_id = people.course.deployment.registration_id
    sequence, _rules = plans.store(db.session(), registration_id, PLAN)
    journeys.start(db.session(), [
        journeys.Start(sequence.id, people.course.id, people.ids[who], "test")
        for who in ("ana", "ben")])  # fmt: skip
    db.session.commit()
    assert dispatch.dispatch_due(db.session()) == 4
    db.session.commit()
    for who in ("ana", "ben"):
        assert people.get(who, "/panel/").status_code == 200  # marks them read
    return people


def delivery(db: SQLAlchemy, people: People, who: str, kind: MessageKind) -> int:
    """The id of ``who``'s delivery of the message of ``kind``."""
    return db.session.scalars(
        select(Delivery.id).join(Message, Message.id == Delivery.message_id)
        .where(Delivery.person_id == people.ids[who], Message.kind == kind)
    ).one()  # fmt: skip


def kept(people: People, who: str) -> str:
    """``who`` reads her panel twice; the second comes from the cache. The page."""
    cache, before = page_cache(), len(page_cache())
    first = people.get(who, "/panel/")
    assert first.status_code == 200
    assert len(cache) == before + 1  # rendered and kept
    pages = list(cache._kept.values())
    second = people.get(who, "/panel/")
    assert second.status_code == 200
    # Served: the very pages kept after the first view, none rendered and kept again.
    assert {id(page) for page in cache._kept.values()} == {id(page) for page in pages}
    return second.text


def test_a_page_read_again_comes_from_the_cache_with_this_requests_token_and_nonce(
    course: People, db: SQLAlchemy, app: Flask, frozen_clock: FixedClock
) -> None:
    page = kept(course, "ana")
    assert "Have you tried it?" in page
    assert len(page_cache()) == 1
    # A change the tool is not told about (no version moved) proves the page was kept...
    db.session.execute(update(Message).where(Message.kind == MessageKind.QUESTION)
                       .values(title="Renamed behind the tool's back"))  # fmt: skip
    db.session.commit()
    frozen_clock.advance(timedelta(seconds=5))
    served = course.get("ana", "/panel/")
    assert "Have you tried it?" in served.text
    # ...served with the nonce of its own response's policy, and a launch token that works.
    nonce = NONCE.search(served.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'nonce="{nonce.group(1)}"' in served.text
    assert len(set(re.findall(r'nonce="([^"]+)"', served.text))) == 1
    token = re.search(r'name="lt" value="([^"]+)"', served.text)
    assert token is not None
    tokens.read(token.group(1), app.config["SECRET_KEY"], 60)
    answered = course.client.post(
        f"/panel/answer/{delivery(db, course, 'ana', MessageKind.QUESTION)}",
        data={"lt": token.group(1), "answer": "yes"},
    )
    assert answered.status_code == 303
    assert "Your answer: Yes" in course.get("ana", "/panel/").text
    # What the tool is not told about shows once VM_PANEL_CACHE_SECONDS have passed.
    frozen_clock.advance(timedelta(seconds=app.config["PANEL_CACHE_SECONDS"]))
    assert "Renamed behind the tool&#39;s back" in course.get("ana", "/panel/").text


def _ask(course: People, db: SQLAlchemy) -> Thread:
    assert course.post("ana", "/panel/ask", question="How do I calm a caller?").status_code == 303
    return db.session.scalars(select(Thread)).one()


def _answer(course: People, db: SQLAlchemy) -> None:
    sent = delivery(db, course, "ana", MessageKind.QUESTION)
    assert course.post("ana", f"/panel/answer/{sent}", answer="no").status_code == 303


def _ben_goes(course: People, db: SQLAlchemy) -> None:
    sent = delivery(db, course, "ben", MessageKind.SESSION)
    assert course.post("ben", f"/panel/rsvp/{sent}", answer="going").status_code == 303


def _new_message(course: People, db: SQLAlchemy) -> None:
    registration_id = course.course.deployment.registration_id
    sequence, _rules = plans.store(db.session(), registration_id, {"name": "Tips", "steps": [
        {"key": "tip", "offset_days": 0, "message": {
            "kind": "tip", "title": "Smile on the phone", "body": "It shows."}}]})  # fmt: skip
    journeys.start(db.session(), [journeys.Start(sequence.id, course.course.id,
                                                 course.ids["ana"], "test")])  # fmt: skip
    db.session.commit()
    assert dispatch.dispatch_due(db.session()) == 1
    db.session.commit()


def _french(course: People, db: SQLAlchemy) -> None:
    preferences.choose(db.session(), course.ids["ana"], locale="fr")
    db.session.commit()


def _new_title(course: People, db: SQLAlchemy) -> None:
    profiles.save_profile(db.session(), course.course.deployment.registration_id,
                          course.ids["maya"], title="Coach of the year")  # fmt: skip


def _new_mentor(course: People, db: SQLAlchemy) -> None:
    other = EnrollmentFactory(course=course.course, role=Role.MENTOR,
                              person__given_name="Omar", person__family_name="Haddad")  # fmt: skip
    db.session.add(MentorProfile(person_id=other.person_id, title="Mentor, Lisbon"))
    db.session.commit()
    pairing.pair(db.session(), course.course.id, other.person_id, course.ids["ana"])


def _edited(course: People, db: SQLAlchemy) -> None:
    step = db.session.scalars(select(Step).where(Step.key == "ask")).one()
    message = db.session.get_one(Message, step.message_id)
    library.update_message(db.session(), step, message, "Have you tried it this week?", "",
                           answers=None)  # fmt: skip
    db.session.commit()


def _agreement(course: People, db: SQLAlchemy) -> None:
    agreements.open_agreement(db.session(), course.course.id, course.ids["ana"],
                              course.ids["maya"])  # fmt: skip


def _attended(course: People, db: SQLAlchemy) -> None:
    session_id = db.session.scalars(select(Message.id).where(Message.kind == "session")).one()
    meetings.mark_attended(db.session(), session_id, course.course.id, [course.ids["ana"]])
    db.session.commit()


@pytest.mark.parametrize(
    ("before", "change", "shown"),
    [
        (None, _answer, "Your answer: Not yet"),
        (None, _ben_goes, "4 of 5 left"),
        (None, _new_message, "Smile on the phone"),
        (None, _french, "Bonjour Ana"),
        (None, _new_title, "Coach of the year"),
        (None, _new_mentor, "Omar Haddad"),
        (None, _edited, "Have you tried it this week?"),
        (None, _agreement, "Your mentoring agreement"),
        (
            _ask,
            lambda c, db: threads.reply(
                db.session(),
                db.session.scalars(select(Thread.id)).one(),
                c.ids["maya"],
                "Breathe first.",
            ),
            "1 new reply",
        ),
        (
            _ask,
            lambda c, db: threads.close(
                db.session(), db.session.scalars(select(Thread.id)).one(), c.ids["maya"]
            ),
            "Closed",
        ),
        (
            lambda c, db: c.post(
                "ana", f"/panel/rsvp/{delivery(db, c, 'ana', MessageKind.SESSION)}", answer="going"
            ),
            _attended,
            "You attended",
        ),
    ],
    ids=[
        "her answer",
        "a place taken by another learner",
        "a new message",
        "her language",
        "her mentor's new title",
        "a new mentor",
        "a message edited by the mentor",
        "an agreement opened",
        "a reply to her question",
        "her question closed",
        "her attendance",
    ],
)
def test_what_changes_her_panel_shows_on_her_next_view(
    course: People, db: SQLAlchemy, before: Callable[..., object] | None,
    change: Callable[[People, SQLAlchemy], object], shown: str,
) -> None:  # fmt: skip
    if before is not None:
        before(course, db)
    assert shown not in kept(course, "ana")
    change(course, db)
    assert shown in course.get("ana", "/panel/").text


def test_a_session_closes_its_answers_on_the_panel_the_moment_it_starts(
    course: People, frozen_clock: FixedClock
) -> None:
    frozen_clock.at = frozen_clock.at.replace(day=25) - timedelta(seconds=20)  # 08:59:40
    page = kept(course, "ana")
    assert "Will you come?" in page
    assert "answers are closed" not in page
    frozen_clock.advance(timedelta(seconds=20))
    page = course.get("ana", "/panel/").text
    assert "answers are closed" in page
    assert "Will you come?" not in page


def test_the_age_of_a_question_moves_on_by_itself(
    course: People, db: SQLAlchemy, frozen_clock: FixedClock
) -> None:
    _ask(course, db)
    assert "asked less than a minute ago" in kept(course, "ana")
    frozen_clock.advance(timedelta(seconds=61))
    assert "asked 1 minute ago" in course.get("ana", "/panel/").text


def test_a_change_made_through_another_web_process_shows_at_once(
    course: People, db: SQLAlchemy, make_app: Callable[..., Flask]
) -> None:
    other: FlaskClient = make_app().test_client()
    assert "Your answer: Yes" not in kept(course, "ana")
    sent = delivery(db, course, "ana", MessageKind.QUESTION)
    answered = other.post(f"/panel/answer/{sent}", data={"lt": course.token["ana"],
                                                          "answer": "yes"})  # fmt: skip
    assert answered.status_code == 303
    assert "Your answer: Yes" in course.get("ana", "/panel/").text


def test_each_process_keeps_at_most_its_number_of_pages_and_none_at_zero(
    course: People, db: SQLAlchemy, make_app: Callable[..., Flask]
) -> None:
    small = make_app(PANEL_CACHE_PAGES=1)
    client = small.test_client()
    for who in ("ana", "ben", "ana"):
        client.get("/panel/", query_string={"lt": course.token[who]})
    assert len(small.extensions["vm_panel_cache"]) == 1
    none = make_app(PANEL_CACHE_PAGES=0)
    client = none.test_client()
    client.get("/panel/", query_string={"lt": course.token["ana"]})
    db.session.execute(update(Message).where(Message.kind == MessageKind.QUESTION)
                       .values(title="Seen at once without a cache"))  # fmt: skip
    db.session.commit()
    page = client.get("/panel/", query_string={"lt": course.token["ana"]}).text
    assert "Seen at once without a cache" in page
    assert len(none.extensions["vm_panel_cache"]) == 0


def test_a_page_showing_new_messages_is_not_kept(course: People, db: SQLAlchemy) -> None:
    _new_message(course, db)
    assert '<span class="badge">New</span> Smile on the phone' in course.get("ana", "/panel/").text
    again = course.get("ana", "/panel/").text
    assert "Smile on the phone" in again
    assert '<span class="badge">New</span>' not in again
