"""The start page as a person sees it: accessible, keyboard-usable, in an LMS iframe, on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response

from tests.browser.conftest import axe_violations
from tests.helpers.servers import serve

pytestmark = pytest.mark.browser


def test_start_page_has_no_accessibility_violations(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mentoring inside your course"
    assert page.get_by_label("Course", exact=True).is_visible()  # the launch picker
    assert axe_violations(page) == []


def test_skip_link_is_first_and_visible_on_focus(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    box = page.get_by_text("Skip to content").bounding_box()
    assert box is not None
    assert box["x"] >= 0  # moved on screen when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_fits_a_320_pixel_phone_without_sideways_scrolling(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        phone = context.new_page()
        phone.goto(f"{live_server}/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_works_inside_an_lms_iframe_from_another_origin(page: Any, live_server: str) -> None:
    """LMSs embed the tool in an iframe; the tool's origin differs from the LMS's."""
    tool_url = live_server.replace("127.0.0.1", "localhost")
    lms = Flask("fake-lms")

    @lms.get("/course")
    def course() -> Response:
        return Response(
            "<!doctype html><html lang='en'><head><title>Course</title></head><body><main>"
            f"<iframe title='Virtual Mentor' src='{tool_url}/' width='800' height='600'></iframe>"
            "</main></body></html>"
        )

    server, lms_url = serve(lms)
    try:
        page.goto(f"{lms_url}/course")
        frame = page.frame_locator("iframe[title='Virtual Mentor']")
        heading = frame.get_by_role("heading", level=1)
        assert heading.inner_text() == "Mentoring inside your course"
        tool_frame = next(f for f in page.frames if f.url.startswith(tool_url))
        assert axe_violations(tool_frame) == []
    finally:
        server.shutdown()


def test_the_accessibility_check_does_catch_violations(page: Any) -> None:
    """Guards the guard: an unlabelled image and input must be reported."""
    page.set_content(
        "<!doctype html><html lang='en'><head><title>Bad</title></head><body><main>"
        "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='><input type='text'>"
        "</main></body></html>"
    )
    assert {v["id"] for v in axe_violations(page)} >= {"image-alt", "label"}


def test_setup_page_has_no_accessibility_violations_even_on_a_phone(
    browser: Any, live_server: str
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        phone = context.new_page()
        phone.goto(f"{live_server}/lti/setup")
        assert phone.get_by_role("heading", level=1).inner_text() == (
            "Register Virtual Mentor in your LMS"
        )
        assert axe_violations(phone) == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_dynamic_registration_from_the_embedded_platform_closes_its_page(
    page: Any, live_server: str
) -> None:
    """The platform frames /lti/register; pressing Done sends org.imsglobal.lti.close."""
    page.goto(f"{live_server}/dev-platform/install")
    frame = page.frame_locator("#install-frame")
    frame.get_by_role("heading", level=1).wait_for()
    assert frame.get_by_role("heading", level=1).inner_text() == "Virtual Mentor is registered"
    assert "flask --app wsgi lti activate" in frame.locator("main").inner_text()
    assert axe_violations(page.frame(url=lambda url: "/lti/register" in url)) == []
    frame.get_by_role("button", name="Done: back to the LMS").click()
    page.get_by_text("The tool has finished registering").wait_for()
    assert page.locator("#install-frame").count() == 0
