"""A learner who reads French opens the mentor panel in the course iframe: the panel, its
messages and her preferences are in French, accessible at each step, in headless Chromium.

The embedded platform always sends the ``en-GB`` locale claim, so Ada chooses French in her
preferences (stored before her second launch), as a learner would on the preferences page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.courses.models import Person
from lti_tool.extensions import db
from lti_tool.mentoring import preferences
from tests.browser.conftest import axe_violations
from tests.browser.test_launch import _open
from tests.browser.test_panel_messages import _send_to_ada

pytestmark = pytest.mark.browser


def _ada_reads_french(app: Flask) -> None:
    with app.app_context():
        ada = db.session.scalars(select(Person).where(Person.given_name == "Ada")).one()
        preferences.choose(db.session(), ada.id, locale="fr")
        db.session.commit()
        db.session.remove()


def test_a_learner_reads_the_panel_in_french(
    page: Any, live_app: tuple[Flask, str], screenshot: Callable[[str], Path]
) -> None:
    app, url = live_app
    _open(page, url, "demo-learner-1", "1")  # Ada launches once: now the tool knows her
    _ada_reads_french(app)
    _send_to_ada(app)

    page.goto(f"{url}/dev-platform/course?course=demo-course-1&user=demo-learner-1&storage=1")
    iframe = page.frame_locator("iframe[title='Virtual Mentor']")
    iframe.locator("h1", has_text="Bonjour Ada").wait_for()
    frame = next(f for f in page.frames if "/panel/" in f.url)
    assert frame.locator("html").get_attribute("lang") == "fr"
    assert frame.get_by_role("heading", name="Votre mentor", exact=True).is_visible()
    assert frame.get_by_role("heading", name="Posez une question à votre mentor").is_visible()
    assert frame.get_by_label("Votre question").is_visible()
    news = frame.locator("h2", has_text="Messages de votre mentor").inner_text()
    assert news.endswith("nouveaux")
    assert frame.get_by_role("link", name="Pourquoi ai-je reçu ceci\u202f?").count() >= 1
    assert frame.get_by_text("Hello Ada").count() == 0
    assert axe_violations(frame) == []
    screenshot("panel-fr")

    frame.get_by_role("link", name="Vos préférences").click()
    frame.locator("h1", has_text="Vos préférences").wait_for()
    assert frame.get_by_label("Fuseau horaire").is_visible()
    assert frame.get_by_label("Langue de l\u2019outil").input_value() == "fr"
    assert axe_violations(frame) == []
    assert screenshot("preferences-fr").stat().st_size > 0
