"""The panel and the console in the learner's language: the launch's locale picks French, a
chosen language overrides it, English stays the default; and the French catalog is complete
and up to date with the words of the pages (a new untranslated sentence fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Course, Person, Role
from lti_tool.i18n import select_locale
from lti_tool.lti import tokens
from lti_tool.mentoring import preferences
from tests.factories import EnrollmentFactory
from tests.mentoring import conftest as mentoring
from tests.mentoring.conftest import Tenant

ROOT = Path(__file__).parents[1]
FRENCH = ROOT / "lti_tool" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
#: The mentoring tests' tenant (a Moodle course with learner Ana), shared by name.
tenant = mentoring.tenant
#: The keywords ``make translations`` extracts (Babel's defaults, ``N_`` among them, and
#: ``lazy_gettext``).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}


def _panel(client: FlaskClient, tenant: Tenant, **headers: str) -> str:
    answer = client.get(f"/panel/?lt={tenant.launch_token}", headers=headers)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _launch_locale(db: SQLAlchemy, person_id: int, locale: str | None) -> None:
    db.session.get_one(Person, person_id).locale = locale
    db.session.commit()


def test_a_learner_launched_in_french_reads_the_panel_in_french(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _launch_locale(db, tenant.person_id, "fr-FR")
    page = _panel(client, tenant)
    assert '<html lang="fr">' in page
    assert "Bonjour Ana" in page
    assert "Posez une question à votre mentor" in page
    assert "Vous n\u2019avez encore posé aucune question." in page
    assert "Aller au contenu" in page
    assert "Ask your mentor" not in page


def test_the_learners_chosen_language_overrides_the_launchs(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _launch_locale(db, tenant.person_id, "fr-FR")
    preferences.choose(db.session(), tenant.person_id, locale="en")
    db.session.commit()
    page = _panel(client, tenant)
    assert '<html lang="en">' in page
    assert "Hello Ana" in page
    assert "Ask your mentor" in page


def test_without_a_launch_locale_the_browsers_language_then_english_is_used(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _launch_locale(db, tenant.person_id, None)
    assert "Bonjour Ana" in _panel(client, tenant, **{"Accept-Language": "de, fr-CA;q=0.8"})
    english = _panel(client, tenant, **{"Accept-Language": "de"})
    assert '<html lang="en">' in english
    assert "Hello Ana" in english


def test_errors_of_a_french_learner_are_in_french(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _launch_locale(db, tenant.person_id, "fr")
    answer = client.get(f"/panel/threads/999?lt={tenant.launch_token}")
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    assert "Introuvable" in page
    assert "Vous n\u2019avez pas posé cette question dans ce cours." in page


def test_a_french_instructor_reads_the_console_in_french(
    app: Flask, client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    enrollment = EnrollmentFactory(
        course=db.session.get_one(Course, tenant.course_id), role=Role.INSTRUCTOR,
        person__given_name="Irène", person__locale="fr-CA",
    )  # fmt: skip
    db.session.commit()
    context = tokens.LaunchContext(
        tenant.registration_id, enrollment.course.deployment_id, tenant.course_id,
        enrollment.person_id, Role.INSTRUCTOR,
    )  # fmt: skip
    token = tokens.issue(context, app.config["SECRET_KEY"])
    page = client.get(f"/console/?lt={token}").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "<h1>Console du mentor</h1>" in page
    assert "1 apprenant dans ce cours." in page
    assert "La liste des participants n\u2019a pas encore été lue depuis la plateforme." in page
    inbox = client.get(f"/console/inbox?lt={token}").get_data(as_text=True)
    assert "En attente de réponse (0)" in inbox
    assert "Aucune question n\u2019attend de réponse." in inbox


def test_pages_of_the_lti_plumbing_stay_english(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in page


@pytest.mark.parametrize(
    ("code", "expected"),
    [("fr-CA", "fr"), ("fr_FR", "fr"), ("FR", "fr"), ("en-GB", "en"), ("de-DE", None),
     ("", None), (None, None)],
)  # fmt: skip
def test_a_locale_is_reduced_to_a_language_the_tool_speaks(
    code: str | None, expected: str | None
) -> None:
    assert preferences.spoken(code) == expected


def test_outside_a_request_the_locale_is_english(app: Flask) -> None:
    with app.app_context():
        assert select_locale() == "en"


def test_every_french_entry_is_translated_and_none_is_fuzzy() -> None:
    with FRENCH.open("rb") as po:
        catalog = read_po(po)
    entries = [message for message in catalog if message.id]
    assert entries
    untranslated = [
        message.id for message in entries
        if not all(message.string) or (isinstance(message.string, str) and not message.string)
    ]  # fmt: skip
    assert untranslated == []
    assert [message.id for message in entries if message.fuzzy] == []
    assert not catalog.fuzzy
    assert [(message.id, errors) for message, errors in catalog.check()] == []


def test_the_french_catalog_has_every_sentence_the_pages_use() -> None:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }
    with FRENCH.open("rb") as po:
        catalog = read_po(po)
    assert len(extracted) > 300  # the extraction found the pages (not an empty pass)
    missing = sorted(text for text in extracted if text not in catalog)
    assert missing == [], "run `make translations` and translate these in the French catalog"
