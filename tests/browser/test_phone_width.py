"""Every page of the mentor console, and the learner's, fits a 320 px wide phone: nothing wider
than the screen, so nobody has to scroll sideways (WCAG 1.4.10, reflow)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_launch import _open

pytestmark = pytest.mark.browser

PAGES = ["Console", "Inbox", "Plans", "Roster", "Results", "Sessions"]


def test_every_console_page_fits_a_phone(browser: Any, page: Any, live_server: str) -> None:
    console = _open(page, live_server, "demo-mentor", "0")
    phone = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        tab = phone.new_page()
        tab.goto(console.url)  # the console's own address carries its launch token
        too_wide = {}
        for name in PAGES:
            tab.get_by_role("navigation", name="Mentor console").get_by_role(
                "link", name=name, exact=True).click()  # fmt: skip
            tab.wait_for_load_state()
            width = tab.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                too_wide[name] = width
        tab.goto(console.url.replace("/console/?", "/console/plans/new?"))
        if (width := tab.evaluate("document.documentElement.scrollWidth")) > 320:
            too_wide["New plan"] = width
        tab.goto(console.url.replace("/console/?", "/console/sessions/new?"))
        if (width := tab.evaluate("document.documentElement.scrollWidth")) > 320:
            too_wide["Schedule a session"] = width
        assert too_wide == {}
    finally:
        phone.close()


def test_the_learners_pages_fit_a_phone(browser: Any, page: Any, live_server: str) -> None:
    panel = _open(page, live_server, "demo-learner-1", "1")
    phone = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        tab = phone.new_page()
        tab.goto(panel.url)
        widths = {"Panel": tab.evaluate("document.documentElement.scrollWidth")}
        tab.get_by_role("link", name="Your preferences").click()
        tab.wait_for_load_state()
        widths["Preferences"] = tab.evaluate("document.documentElement.scrollWidth")
        assert {name: width for name, width in widths.items() if width > 320} == {}
    finally:
        phone.close()
