"""A mentor in the course iframe saves a snippet, answers a learner's question with it and
marks another answered, in headless Chromium, with each page accessible."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Course, Person
from lti_tool.extensions import db
from lti_tool.threads import services
from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser


def _ada_asks(app: Flask, url: str, *questions: str) -> None:
    app.config["XAPI_TOOL_URL"] = url  # the "asked" statement names the tool
    with app.app_context():
        ada = db.session.scalars(select(Person).filter_by(subject="demo-learner-1")).one()
        course_id = db.session.scalars(select(Course.id)).one()  # the one course launched
        for question in questions:
            services.ask(db.session(), course_id, ada.id, question)
        db.session.remove()


def test_a_mentor_answers_a_question_with_a_snippet_in_the_iframe(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path]
) -> None:
    app, url = live_app
    _open(page, url, "demo-learner-1", "1")  # Ada launches once: now the tool knows her
    _ada_asks(app, url, "How do I calm an angry caller?\nThey shout at me.", "Is the quiz graded?")
    frame = _open(page, url, "demo-mentor", "0")
    assert "2 questions wait for an answer." in frame.locator("#inbox-link").inner_text()

    frame.get_by_role("link", name="Question inbox").click()
    frame.get_by_role("heading", name="Waiting for an answer (2)").wait_for()
    assert "Ada Lindqvist · waiting less than a minute" in frame.inner_text("main")
    assert axe_violations(frame) == []

    frame.get_by_role("link", name="Your reply snippets").click()
    frame.get_by_label("Title").fill("Calm callers")
    frame.get_by_label("Text").fill("Let them finish, then repeat back what you heard.")
    frame.get_by_role("button", name="Save snippet").click()
    frame.get_by_text("The snippet is saved.").wait_for()
    assert axe_violations(frame) == []

    frame.get_by_role("link", name="Back to the inbox").click()
    frame.get_by_role("link", name="How do I calm an angry caller?").click()
    frame.get_by_role("heading", name="About Ada Lindqvist").wait_for()
    reply = frame.get_by_label("Your reply")
    reply.fill("Hello Ada,")
    assert frame.get_by_role("button", name="Insert snippet").is_hidden()  # JS does it
    frame.get_by_label("Snippet").select_option(label="Calm callers")
    assert reply.input_value() == (
        "Hello Ada,\n\nLet them finish, then repeat back what you heard."
    )
    assert frame.get_by_text("Inserted “Calm callers” into your reply.").is_visible()
    assert axe_violations(frame) == []
    reply.scroll_into_view_if_needed()
    screenshot("snippet-inserted")
    frame.get_by_role("button", name="Send reply").click()
    frame.get_by_text("Your reply was sent.").wait_for()
    assert (
        frame.locator(".post-mentor")
        .inner_text()
        .endswith("Hello Ada,\n\nLet them finish, then repeat back what you heard.")
    )

    frame.get_by_role("link", name="Back to the inbox").click()
    frame.get_by_role("link", name="Is the quiz graded?").click()
    frame.get_by_role("button", name="Mark answered").click()
    frame.get_by_text("The question is marked answered.").wait_for()
    frame.get_by_role("link", name="Back to the inbox").click()
    frame.get_by_role("heading", name="Answered and closed (2)").wait_for()
    assert "Nothing waits for an answer." in frame.inner_text("main")
    assert axe_violations(frame) == []
    assert screenshot("inbox").stat().st_size > 0
