"""Adding Virtual Mentor to a course by deep linking, in headless Chromium inside the iframe."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("storage", ["1", "0"], ids=["postMessage storage", "state cookie"])
def test_an_instructor_adds_the_panel_from_the_course_page(
    page: Any, live_server: str, storage: str
) -> None:
    page.goto(f"{live_server}/dev-platform/course?course=demo-course-1&user=demo-mentor"
              f"&storage={storage}&deep_link=1")  # fmt: skip
    frame = page.frame_locator("iframe[title='Virtual Mentor']")
    frame.locator("h1", has_text="Add Virtual Mentor to Customer Service Essentials").wait_for()
    picker = next(f for f in page.frames if "/lti/deep-link/" in f.url)
    assert "dl=" in picker.url
    assert axe_violations(picker) == []

    frame.get_by_label("Mentor panel for this course").check()
    frame.get_by_role("button", name="Add to the course").click()
    # The tool's response is posted to the platform's return page, still inside the iframe.
    frame.locator("h1", has_text="Added to the course").wait_for()
    assert frame.locator("li").all_inner_texts() == ["Mentor panel"]
    returned = next(f for f in page.frames if f.url.endswith("/dev-platform/deep-link-return"))
    assert returned.parent_frame is page.main_frame


def test_a_wrong_pick_is_explained_accessibly(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/dev-platform/course?course=demo-course-1&user=demo-mentor"
              "&storage=1&deep_link=1")  # fmt: skip
    frame = page.frame_locator("iframe[title='Virtual Mentor']")
    frame.get_by_label("Check-in on a topic").check()
    frame.get_by_role("button", name="Add to the course").click()
    frame.get_by_role("alert").filter(has_text="Please give the check-in's topic.").wait_for()
    picker = next(f for f in page.frames if "/lti/deep-link/" in f.url)
    assert axe_violations(picker) == []


def test_the_start_page_leads_the_instructor_to_the_picker(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/")
    page.get_by_label("Person").select_option(label="Maya Okafor (instructor)")
    page.get_by_role("button", name="Add to a module").click()
    frame = page.frame_locator("iframe[title='Virtual Mentor']")
    frame.get_by_role(
        "heading", name="Add Virtual Mentor to Customer Service Essentials"
    ).wait_for()
