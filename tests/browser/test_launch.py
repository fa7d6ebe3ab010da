"""Launching from the embedded platform in headless Chromium, inside the course iframe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Course
from lti_tool.extensions import db
from lti_tool.lti.storage import storage
from lti_tool.roster.services import run_sync
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def _open(page: Any, live_server: str, user: str, storage: str) -> Any:
    page.goto(
        f"{live_server}/dev-platform/course?course=demo-course-1&user={user}&storage={storage}"
    )
    frame = page.frame_locator("iframe[title='Virtual Mentor']")
    frame.locator("h1", has_text="Hello Ada").or_(
        frame.locator("h1", has_text="Mentor console")
    ).wait_for()
    return next(f for f in page.frames if "/panel/" in f.url or "/console/" in f.url)


def test_postmessage_storage_path_signs_the_learner_in(page: Any, live_server: str) -> None:
    """Canvas-style: state kept in the platform window via lti.put_data / lti.get_data."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    frame = _open(page, live_server, "demo-learner-1", "1")
    assert "/panel/?lt=" in frame.url
    assert any("/lti/launch/complete" in url for url in requests)  # the postMessage path ran
    assert page.context.cookies() == [] or all(
        not c["name"].startswith("lti1p3-state-") for c in page.context.cookies()
    )
    assert axe_violations(frame) == []


def test_cookie_path_signs_the_instructor_in(page: Any, live_server: str) -> None:
    frame = _open(page, live_server, "demo-mentor", "0")
    assert "/console/?lt=" in frame.url
    assert "signed in as Maya Okafor" in frame.inner_text("main")
    assert axe_violations(frame) == []


def test_the_platform_course_page_is_accessible(page: Any, live_server: str) -> None:
    _open(page, live_server, "demo-learner-1", "1")
    assert axe_violations(page) == []


@pytest.mark.parametrize("storage", ["1", "0"])
def test_cross_site_iframe_with_third_party_cookies_blocked(
    strict_browser: Any, live_server: str, storage: str
) -> None:
    """The LMS on one site, the tool on another, third-party cookies blocked.

    With lti_storage_target the state lives in the platform window (postMessage); without
    it, the state cookie is Partitioned (CHIPS), which third-party blocking still allows.
    """
    platform = live_server.replace("127.0.0.1", "localhost")
    context = strict_browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{platform}/dev-platform/course?course=demo-course-1&user=demo-learner-1"
                  f"&storage={storage}&tool={live_server}")  # fmt: skip
        frame = page.frame_locator("iframe[title='Virtual Mentor']")
        frame.locator("h1", has_text="Hello Ada").wait_for()
        tool_frame = next(f for f in page.frames if f.url.startswith(f"{live_server}/panel/"))
        assert axe_violations(tool_frame) == []
    finally:
        context.close()


def test_the_console_follows_the_roster_sync_as_it_happens(
    page: Any, live_app: tuple[Flask, str]
) -> None:
    app, url = live_app
    frame = _open(page, url, "demo-mentor", "0")
    roster = frame.locator('[data-kind="roster"]')
    assert roster.inner_text() == "Waiting for a worker to read the roster…"
    assert frame.locator("#learner-count").inner_text() == "0 learners in this course."
    assert frame.locator("#sync-roster button").is_disabled()
    with app.app_context():  # a worker reads the roster while the page stays open
        course_id = db.session.scalars(select(Course.id)).one()
        assert run_sync(db.session(), storage(), course_id, timeout=5)
    roster.filter(
        has_text=re.compile(r"^Roster read on .*: 3 members, \d+ changes saved\.$")
    ).wait_for(timeout=10_000)
    # The learners the roster brought in are counted without a reload.
    assert frame.locator("#learner-count").inner_text() == "2 learners in this course."
    assert frame.locator("#sync-roster button").is_enabled()
    assert axe_violations(frame) == []
