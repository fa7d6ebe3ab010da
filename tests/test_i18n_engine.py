"""The engine's own words in the learner's language: refusals raised by the services, the
reasons of "Why did I get this?", and the emails (the chosen language, else the launch's,
else English). Reasons are stored in English and translated where shown; outside a request
(the CLI, a worker) the same services speak English."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool import clock
from lti_tool.courses.models import Course, Person, Role
from lti_tool.errors import AppError
from lti_tool.i18n import reason
from lti_tool.mentoring import (
    dispatch,
    journeys,
    links,
    meetings,
    outgoing,
    plans,
    preferences,
    reasons,
)
from lti_tool.mentoring.channels import mime
from lti_tool.mentoring.models import Delivery, Journey
from lti_tool.mentors.models import Mentorship
from lti_tool.threads import notify, services
from lti_tool.threads.models import ThreadEmail
from tests.factories import CourseFactory
from tests.helpers.smtp import Mailbox
from tests.mentoring import conftest as mentoring
from tests.mentoring.conftest import Tenant
from tests.mentors.helpers import member
from tests.panel.helpers import welcomed

#: The mentoring tests' tenant (a Moodle course with learner Ana), shared by name.
tenant = mentoring.tenant
#: French puts a no-break space before a colon and inside guillemets.
NBSP = "\u00a0"
#: French writes its apostrophe as a right single quotation mark.
APOS = "\u2019"


def _french(db: SQLAlchemy, person_id: int, launch: str | None = "fr-FR") -> None:
    db.session.get_one(Person, person_id).locale = launch
    db.session.commit()


def _page(answer: Any, status: int) -> str:
    assert answer.status_code == status
    return str(answer.get_data(as_text=True))


def test_a_french_learners_refusals_on_the_panel_are_in_french(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _french(db, tenant.person_id)
    lt = tenant.launch_token
    empty = _page(client.post("/panel/ask", data={"lt": lt, "question": "  "}), 400)
    assert f"Écrivez d{APOS}abord votre message{NBSP}: il est vide." in empty
    assert "Write your message first" not in empty

    bad = client.post("/panel/preferences", data={"lt": lt, "quiet_start": "25:00"})
    page = _page(bad, 400)
    assert (f"Le début des heures de tranquillité, «{NBSP}25:00{NBSP}», n{APOS}est pas une heure"
            f"{NBSP}: indiquez des heures et des minutes, par exemple 21:30.") in page  # fmt: skip

    welcome = welcomed(client, db, tenant)
    not_a_session = client.post(f"/panel/rsvp/{welcome.id}", data={"lt": lt, "answer": "going"})
    page = _page(not_a_session, 404)
    assert "Introuvable" in page
    assert f"Ce message n{APOS}est pas une invitation à une séance." in page


def test_an_email_link_that_was_changed_says_so_in_the_browsers_language(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    welcome = welcomed(client, db, tenant)
    token = links.path(welcome.id, "yes").rsplit("/", 1)[1]
    french = client.get(f"/mentoring/a/{token}x", headers={"Accept-Language": "fr"})
    assert "Ce lien de réponse est incomplet ou a été modifié" in _page(french, 400)
    english = client.get(f"/mentoring/a/{token}x", headers={"Accept-Language": "en"})
    assert "This answer link is incomplete or was changed" in _page(english, 400)


def test_why_a_message_came_is_told_in_french_from_reasons_stored_in_english(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _french(db, tenant.person_id)
    preferences.choose(db.session(), tenant.person_id, opted_out=["tip"])
    db.session.commit()
    welcome = welcomed(client, db, tenant)
    tenant.later(db, days=1)
    welcome, tip = tenant.deliveries(db)[:2]
    assert welcome.reason == "Delivered to your mentor panel."  # stored in English
    assert tip.reason == "Not sent: you opted out of tip messages."
    start = db.session.get_one(Journey, welcome.journey_id).start_reason
    assert start.startswith("Started by the rule “Active listening follow-up”: you ")

    query = {"lt": tenant.launch_token}
    client.get("/panel/", query_string=query)  # she sees the welcome
    page = _page(client.get(f"/panel/why/{welcome.id}", query_string=query), 200)
    assert "Remis dans votre espace mentor." in page
    assert f"Le suivi «{NBSP}Active listening follow-up{NBSP}» a commencé" in page
    assert f"Lancé par la règle «{NBSP}Active listening follow-up{NBSP}»{NBSP}: " in page
    assert f"Vous l{APOS}avez vu pour la première fois." in page
    assert "Delivered to your mentor panel." not in page
    skipped = _page(client.get(f"/panel/why/{tip.id}", query_string=query), 200)
    assert (f"Non envoyé{NBSP}: vous avez refusé les messages de type «{NBSP}conseil{NBSP}»."
            in skipped)  # fmt: skip


def test_a_reason_of_no_known_template_is_shown_as_it_was_stored(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _french(db, tenant.person_id)
    welcome = welcomed(client, db, tenant)
    db.session.get_one(Delivery, welcome.id).reason = "Sent by hand after a call."
    db.session.commit()
    query = {"lt": tenant.launch_token}
    assert "Sent by hand after a call." in client.get(
        f"/panel/why/{welcome.id}", query_string=query
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("template", "values"),
    [(template, {name: f"<{name}>" for name in reasons._FIELD.findall(template)})
     for template in reasons.TEMPLATES],
)  # fmt: skip
def test_every_reason_template_reads_back_its_own_values(
    template: str, values: dict[str, str]
) -> None:
    assert reasons.read(reasons.write(template, **values)) == (template, values)


def _delivery_email(db: SQLAlchemy, delivery_id: int) -> EmailMessage:
    [built] = outgoing.build(db.session(), [delivery_id])
    raw = mime.build(built, from_address="mentor@vm.example.org", now=clock.now())
    return message_from_bytes(raw, policy=default)  # type: ignore[return-value]


def _text(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_message_email_is_in_the_learners_chosen_language_else_the_launchs(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _french(db, tenant.person_id, launch="en-US")
    welcome = welcomed(client, db, tenant)
    english = _text(_delivery_email(db, welcome.id))
    assert "You receive welcome messages from your mentor" in english
    assert "Stop these emails: https://" in english

    preferences.choose(db.session(), tenant.person_id, locale="fr")  # chosen beats the launch
    db.session.commit()
    email = _delivery_email(db, welcome.id)
    french = _text(email)
    assert email["Content-Language"] == "fr"
    assert f"Vous recevez les messages de type «{NBSP}bienvenue{NBSP}» de votre mentor" in french
    assert f"Ne plus recevoir ces e-mails{NBSP}: https://" in french
    assert "Stop these emails" not in french
    html = str(email.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert '<html lang="fr">' in html
    assert ">Ne plus recevoir ces e-mails</a>" in html


#: Tuesday 1 December 2026, 14:00 in Paris (13:00 UTC), an hour.
SESSION = {"starts_at": "2026-12-01T14:00", "time_zone": "Europe/Paris", "duration_minutes": 60,
           "format": "office_hours", "place": "Salle 4"}  # fmt: skip


def test_a_session_invitation_is_in_french_on_the_panel_and_in_its_email(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    _french(db, tenant.person_id)
    sequence, _rules = plans.store(db.session(), tenant.registration_id, {"name": "Invite",
        "steps": [{"key": "only", "offset_days": 0,
                   "message": {"kind": "session", "title": "Permanence", "details": SESSION}}],
    })  # fmt: skip
    journeys.start(db.session(), [journeys.Start(sequence.id, tenant.course_id,
                                                 tenant.person_id, reasons.INVITED)])  # fmt: skip
    db.session.commit()
    dispatch.dispatch_due(db.session())
    [delivery] = tenant.deliveries(db)
    panel = client.get("/panel/", query_string={"lt": tenant.launch_token}).get_data(as_text=True)
    assert "<dd>Permanence</dd>" in panel
    assert "mardi 1 décembre 2026, 13:00\u201314:00 (UTC)" in panel
    assert f">J{APOS}y serai</button>" in panel
    assert "I'll be there" not in panel

    [email] = outgoing.build(db.session(), [delivery.id])
    assert f"Quand{NBSP}: mardi 1 décembre 2026" in email.text
    assert [label for label, _url in email.answer_links] == [
        f"J{APOS}y serai", "Peut-être", "Je ne peux pas venir"]  # fmt: skip
    with client.application.app_context():  # a worker: English
        assert meetings.Meeting.of(delivery_details(db, delivery.id)).when() == (
            "Tuesday 1 December 2026, 14:00\u201315:00 (Europe/Paris)")  # fmt: skip


def delivery_details(db: SQLAlchemy, delivery_id: int) -> dict[str, Any]:
    """The details of a delivery's message (a session's time and place)."""
    return dict(outgoing.feed.items(db.session(), [delivery_id])[delivery_id].details)


@pytest.fixture
def course(app: Flask, db: SQLAlchemy, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Ana (launched in French) and Bo (in English), both mentored by Mo."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    made = CourseFactory(title="Leading teams")
    people = {
        "ana": member(db, made, person__name="Ana Lima", person__email="ana@example.edu",
                      person__locale="fr-CA"),
        "bo": member(db, made, person__name="Bo Berg", person__email="bo@example.edu",
                     person__locale="en-GB"),
        "mo": member(db, made, Role.MENTOR, profile="Coach", person__name="Mo Diaz",
                     person__email="mo@example.edu"),
    }  # fmt: skip
    for learner in ("ana", "bo"):
        db.session.add(Mentorship(course_id=made.id, mentor_id=people["mo"],
                                  mentee_id=people[learner]))  # fmt: skip
    db.session.commit()
    return {"course": made.id, **people}


def _reply_email(db: SQLAlchemy, course: dict[str, int], learner: str, box: Mailbox) -> Any:
    thread = services.ask(db.session(), course["course"], course[learner], "Which form?")
    services.reply(db.session(), thread.id, course["mo"], "The blue one.")
    [email] = db.session.scalars(select(ThreadEmail).where(ThreadEmail.thread_id == thread.id))
    assert notify.send(db.session(), [email.id]) == 1
    return box.messages()[-1]


def test_a_reply_email_speaks_french_to_a_french_learner_and_english_to_an_english_one(
    db: SQLAlchemy, course: dict[str, int], smtp_on: Mailbox, broker: Any
) -> None:
    french = _reply_email(db, course, "ana", smtp_on)
    # A header is written on one line of plain spaces (``mime.one_line``).
    assert french["Subject"] == "Votre mentor a répondu : Which form?"
    text = french.get_body(("plain",)).get_content()
    assert "Ouvrez votre espace mentor dans votre cours pour lire la conversation" in text
    assert "Leading teams par Virtual Mentor." in text.replace("\r\n", " ").replace("\n", " ")

    english = _reply_email(db, course, "bo", smtp_on)
    assert english["Subject"] == "Your mentor answered: Which form?"
    text = english.get_body(("plain",)).get_content()
    assert "Open your mentor panel in your course to read the conversation" in text
    assert "Ouvrez" not in text


def test_outside_a_request_the_services_speak_english(
    app: Flask, client: FlaskClient, db: SQLAlchemy, course: dict[str, int]
) -> None:
    db.session.get_one(Course, course["course"])  # the French pages ran in this process too
    with app.app_context():  # as the CLI and the Celery tasks run them
        with pytest.raises(AppError, match=r"^Write your message first: it is empty\.$"):
            services.ask(db.session(), course["course"], course["ana"], " ")
        with pytest.raises(preferences.InvalidPreference, match="is not a time zone we know"):
            preferences.choose(db.session(), course["ana"], time_zone="Mars/Olympus")
        assert reason("Delivered to your mentor panel.") == "Delivered to your mentor panel."
    assert reason(reasons.write(reasons.OPTED_OUT, category="tip")) == (
        "Not sent: you opted out of tip messages."
    )  # no app at all


def test_a_cli_command_refuses_in_english(app: Flask, db: SQLAlchemy, tenant: Tenant) -> None:
    result = app.test_cli_runner().invoke(args=[
        "topics", "add", "--registration", str(tenant.registration_id), "--name", "Listening",
        "--activity", "not an iri",
    ])  # fmt: skip
    assert result.exit_code != 0
    assert "'not an iri' is not an activity IRI: give the activity's full address" in result.output
