"""A learner in the course iframe reads their mentor's card, asks a question, sees it wait,
and after the mentor's reply sees it answered, in headless Chromium, accessible throughout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Enrollment, Person
from lti_tool.extensions import db
from lti_tool.mentors import agreements, pairing, profiles
from lti_tool.threads import services
from lti_tool.threads.models import Thread
from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser


def _person(given_name: str) -> tuple[int, int]:
    """The person's id and their course's, once they have launched."""
    person_id, course_id = db.session.execute(
        select(Person.id, Enrollment.course_id)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(Person.given_name == given_name)
    ).one()
    return person_id, course_id


def _pair_ada_with_maya(page: Any, live_app: tuple[Flask, str]) -> None:
    """Maya and Ada launch once (now the tool knows them); Maya writes her profile and
    becomes Ada's mentor."""
    app, url = live_app
    _open(page, url, "demo-mentor", "0")
    _open(page, url, "demo-learner-1", "1")
    with app.app_context():
        (maya, course_id), (ada, _course) = _person("Maya"), _person("Ada")
        registration_id = db.session.get_one(Person, maya).registration_id
        profiles.save_profile(db.session(), registration_id, maya, title="Head of training",
                              bio="Fifteen years on the front desk.")  # fmt: skip
        pairing.pair(db.session(), course_id, maya, ada)
        db.session.remove()


def _maya_opens_the_agreement(app: Flask) -> None:
    with app.app_context():
        (maya, course_id), (ada, _course) = _person("Maya"), _person("Ada")
        opened = agreements.open_agreement(db.session(), course_id, ada, maya)
        agreements.edit(db.session(), opened.id, maya, goals="Handle hard calls calmly")
        db.session.remove()


def _maya_replies(app: Flask, text: str) -> None:
    with app.app_context():
        thread_id = db.session.scalars(select(Thread.id)).one()
        services.reply(db.session(), thread_id, _person("Maya")[0], text)
        db.session.remove()


def test_a_learner_asks_their_mentor_and_reads_the_answer_in_the_iframe(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path]
) -> None:
    app, url = live_app
    _pair_ada_with_maya(page, live_app)
    frame = _open(page, url, "demo-learner-1", "1")
    card = frame.locator("section.mentor-card")
    assert card.get_by_text("Maya Okafor", exact=True).is_visible()
    assert card.get_by_text("Head of training").is_visible()
    assert card.get_by_role("link", name="maya.okafor@example.com").is_visible()
    assert frame.get_by_text("You have not asked anything yet.").is_visible()
    assert axe_violations(frame) == []
    screenshot("mentor-card")

    frame.get_by_label("Your question", exact=True).fill("How do I calm an angry caller?")
    frame.get_by_role("button", name="Send my question").click()
    frame.locator("h1", has_text="How do I calm an angry caller?").wait_for()
    assert frame.get_by_text("Waiting for an answer").is_visible()
    assert axe_violations(frame) == []
    screenshot("waiting")

    _maya_replies(app, "Breathe first, then let them finish.")
    frame = _open(page, url, "demo-learner-1", "1")  # the learner comes back later
    questions = frame.locator("ul.questions")
    assert questions.get_by_text("Answered").is_visible()
    assert frame.get_by_text("1 new reply", exact=True).is_visible()  # by the questions
    assert frame.get_by_role("link", name="1 new reply to your questions").is_visible()
    questions.get_by_role("link", name="How do I calm an angry caller?").click()
    frame.get_by_text("Breathe first, then let them finish.").wait_for()
    assert frame.get_by_text("Answered").is_visible()
    assert axe_violations(frame) == []
    assert screenshot("answered").stat().st_size > 0

    page.set_viewport_size({"width": 320, "height": 640})  # a phone: the panel still fits
    frame.get_by_role("link", name="Back to your mentor panel").click()
    frame.locator("h1", has_text="Hello Ada").wait_for()
    assert frame.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_learner_completes_and_accepts_the_mentoring_agreement_in_the_iframe(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path]
) -> None:
    app, url = live_app
    _pair_ada_with_maya(page, live_app)
    _maya_opens_the_agreement(app)

    frame = _open(page, url, "demo-learner-1", "1")
    frame.get_by_role("link", name="Read, complete and accept the agreement").click()
    frame.locator("h1", has_text="Your mentoring agreement").wait_for()
    assert frame.locator("dd", has_text="Handle hard calls calmly").is_visible()
    assert axe_violations(frame) == []
    frame.get_by_label("How often you meet").fill("Every other Monday")
    frame.get_by_label("Video calls").check()
    frame.get_by_label("What you expect from Maya Okafor").fill("Honest feedback")
    frame.get_by_role("button", name="Save my side").click()
    frame.locator("dd", has_text="Honest feedback").wait_for()
    frame.get_by_role("button", name="Accept version 1").click()
    frame.get_by_text("You have accepted version 1.").wait_for()
    assert axe_violations(frame) == []
    assert screenshot("accepted").stat().st_size > 0
