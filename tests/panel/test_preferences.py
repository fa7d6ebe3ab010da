"""A learner sets how and when their mentor reaches them, in the panel: saved choices read
back, and a choice the tool cannot use is refused with a sentence and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.courses.models import Person
from lti_tool.mentoring.models import LearnerPreference
from tests.mentoring.conftest import Tenant

GOOD = {"email": "on", "quiet_start": "22:30", "quiet_end": "07:15", "time_zone": "Asia/Tokyo",
        "opted_out": ["tip", "survey"], "locale": "fr"}  # fmt: skip


def _stored(db: SQLAlchemy, tenant: Tenant) -> LearnerPreference | None:
    db.session.expire_all()
    return db.session.get(LearnerPreference, tenant.person_id)


def _page(client: FlaskClient, tenant: Tenant) -> str:
    answer = client.get("/panel/preferences", query_string={"lt": tenant.launch_token})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_form_starts_from_the_defaults_and_the_launch_language(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    db.session.get_one(Person, tenant.person_id).locale = "fr-CA"
    db.session.commit()
    page = _page(client, tenant)
    assert "<option selected>UTC</option>" in page
    assert 'value="21:00"' in page
    assert 'value="08:00"' in page
    assert '<option value="fr" lang="fr" selected>Français</option>' in page
    assert 'name="email" checked' in page
    assert 'value="welcome"' not in page  # a welcome cannot be turned off, and the page says so
    assert "Les messages de bienvenue arrivent toujours" in page  # the page is in French too
    assert _stored(db, tenant) is None  # looking changes nothing


def test_saved_choices_are_confirmed_and_read_back(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    answer = client.post("/panel/preferences", data={"lt": tenant.launch_token, **GOOD})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Vos préférences sont enregistrées." in page  # in the language just chosen
    stored = _stored(db, tenant)
    assert stored is not None
    assert (stored.time_zone, stored.quiet_start, stored.quiet_end, stored.email, stored.locale) \
        == ("Asia/Tokyo", "22:30", "07:15", True, "fr")  # fmt: skip
    assert sorted(stored.opted_out) == ["survey", "tip"]
    assert "<option selected>Asia/Tokyo</option>" in page
    assert 'value="22:30"' in page
    assert 'value="07:15"' in page
    assert 'value="tip" checked' in page
    assert 'value="question">' in page
    assert "Your preferences are saved." not in _page(client, tenant)  # only right after saving


def test_unticking_email_and_every_kind_stores_that(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    client.post("/panel/preferences", data={"lt": tenant.launch_token, **GOOD})
    nothing_ticked = {"time_zone": "UTC", "quiet_start": "", "quiet_end": "", "locale": "en"}
    client.post("/panel/preferences", data={"lt": tenant.launch_token, **nothing_ticked})
    stored = _stored(db, tenant)
    assert stored is not None
    assert (stored.email, stored.opted_out, stored.quiet_start) == (False, [], None)
    assert 'name="email" checked' not in _page(client, tenant)


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"quiet_start": "25:00"}, "The quiet hours start “25:00” is not a time"),
        ({"quiet_end": "7pm"}, "The quiet hours end “7pm” is not a time"),
        ({"quiet_start": "9:5"}, "is not a time"),
        ({"time_zone": "Mars/Olympus_Mons"}, "“Mars/Olympus_Mons” is not a time zone we know"),
        ({"opted_out": ["tip", "welcome"]}, "“welcome” is not a kind of message you can turn off"),
        ({"opted_out": ["spam"]}, "“spam” is not a kind of message"),
        ({"locale": "de"}, "“de” is not a language the tool offers."),
    ],
)
def test_a_choice_the_tool_cannot_use_is_refused_and_nothing_changes(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, change: dict[str, Any], sentence: str
) -> None:
    # English stays her language (a refusal is in the language she reads the panel in).
    client.post("/panel/preferences", data={"lt": tenant.launch_token, **GOOD, "locale": "en"})
    answer = client.post("/panel/preferences", data={
        "lt": tenant.launch_token, **GOOD, "email": "", "time_zone": "Europe/Paris",
        "quiet_start": "20:00", "locale": "fr", **change})  # fmt: skip
    assert answer.status_code == 400
    assert sentence in answer.get_data(as_text=True)
    stored = _stored(db, tenant)
    assert stored is not None
    assert (stored.time_zone, stored.quiet_start, stored.email, stored.locale) == (
        "Asia/Tokyo", "22:30", True, "en")  # fmt: skip


def test_a_refused_first_choice_stores_no_row(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    answer = client.post("/panel/preferences", data={"lt": tenant.launch_token, **GOOD,
                                                     "time_zone": "Nowhere"})  # fmt: skip
    assert answer.status_code == 400
    assert _stored(db, tenant) is None


def test_without_a_launch_there_is_no_preferences_page(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    assert client.get("/panel/preferences").status_code == 401
    answer = client.post("/panel/preferences", data=GOOD)
    assert answer.status_code == 401
    assert "This page needs a launch from your course." in answer.get_data(as_text=True)
    assert _stored(db, tenant) is None
