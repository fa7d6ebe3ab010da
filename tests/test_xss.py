"""Stored XSS: what learners and mentors write is shown as text, never run.

Every text field a learner or mentor can write gets the same payload (a script tag, an attribute
breakout with an ``onerror`` image, an ``<svg onload>``, raw and markdown ``javascript:`` links),
each behind a mark naming the field, through the forms the people use (the CLI where only the
tool's administrator writes it: mentor profiles, topics, and the mentor's side of the
agreement). Then every page that shows them, and the HTML part of the learner's email, is
parsed with ``html.parser``: no script without the page's CSP nonce, no ``on…`` attribute, no
``javascript:`` address; and the marks of what the page shows are there, with the script tag
as text (escaped, not dropped).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from lti_tool.clock import FixedClock
from lti_tool.courses.models import Person
from lti_tool.mentoring import outgoing
from lti_tool.mentoring.channels import mime
from lti_tool.mentoring.models import Delivery
from lti_tool.mentoring.render import to_html
from lti_tool.mentors import agreements
from lti_tool.mentors.profiles import save_profile
from lti_tool.topics.services import add_topic
from tests.helpers.authz import World, build

SCRIPT = "<script>alert(1)</script>"
PAYLOAD = (SCRIPT + '"><img src=x onerror=alert(1)><svg onload=alert(1)>'
           '[x](javascript:alert(1)) <a href="javascript:alert(1)">y</a>')  # fmt: skip
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster"})
SCHEMES = ("javascript:", "vbscript:", "data:text/html")
NONCE = re.compile(r"'nonce-([^']+)'")


#: For fields of 120 characters at most (names and titles): the tag and the attribute breakout.
SHORT = SCRIPT + '"><img src=x onerror=alert(1)><svg onload=alert(1)>'


def written(mark: str, payload: str = PAYLOAD) -> str:
    """The payload behind a mark that says which field it was written in."""
    return f"{mark} {payload}"


class Executable(HTMLParser):
    """What in a page could run: scripts without the page's nonce, event handler attributes,
    ``javascript:`` (or ``vbscript:``, ``data:``) addresses, ``srcdoc``; and the page's text
    and attribute values."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note every tag or attribute that could run code; keep the values (a form's)."""
        given = {name.lower(): (value or "") for name, value in attrs}
        self.text.extend(f" {value} " for value in given.values())
        if tag == "script" and (self.nonce is None or given.get("nonce") != self.nonce):
            self.found.append(f"<script {given}>")
        for name, value in given.items():
            address = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            runs = name.startswith("on") or name == "srcdoc"
            if runs or (name in URL_ATTRIBUTES and address.startswith(SCHEMES)):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """``<img … />`` as ``<img …>``."""
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        """Keep the page's text."""
        self.text.append(data)


def read(html: str, csp: str | None = None) -> Executable:
    """The page parsed: what could run, and its text."""
    nonce = NONCE.search(csp or "")
    parser = Executable(nonce[1] if nonce else None)
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize(
    "markup",
    [SCRIPT, '<img src=x onerror="alert(1)">', '<a href=" JaVa&#x09;script:alert(1)">x</a>',
     "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>", '<iframe srcdoc="x"></iframe>',
     '<script nonce="guess">alert(1)</script>'],
)  # fmt: skip
def test_the_checker_finds_executable_markup(markup: str) -> None:
    """So that a page it passes means something."""
    assert read(f"<p>{markup}</p>", "script-src 'nonce-real'").found


def test_the_checker_passes_the_pages_own_script_and_escaped_text() -> None:
    page = read(f'<script nonce="real" src="/static/x.js"></script><p>{_escaped(PAYLOAD)}</p>',
                "script-src 'nonce-real'")  # fmt: skip
    assert not page.found
    assert PAYLOAD in "".join(page.text)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_markdown_bodies_keep_no_executable_markup() -> None:
    """The renderer alone, with the markdown tricks raw HTML off does not cover."""
    body = (f"{PAYLOAD}\n\n[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) "
            "[c](vbscript:x) [d](data:text/html;base64,PHNjcmlwdD4=) ![i](javascript:alert(1))\n\n"
            "<javascript:alert(1)> [e]: javascript:alert(1)\n\n[e]")  # fmt: skip
    page = read(to_html(body, {"first_name": PAYLOAD}))
    assert not page.found
    assert SCRIPT in "".join(page.text)


@pytest.fixture
def world(app: Flask, db: SQLAlchemy, frozen_clock: FixedClock,
          monkeypatch: pytest.MonkeyPatch) -> World:  # fmt: skip
    """The authorization matrix's world, with the payload written in every field."""
    monkeypatch.setitem(app.config, "XAPI_TOOL_URL", "https://mentor.example.org")
    world = build(db, app)
    _write_everything(app.test_client(), db, world)
    return world


def _post(client: FlaskClient, world: World, actor: str, path: str, form: dict[str, str],
          expect: int = 303) -> None:  # fmt: skip
    response = client.post(path, data={**form, "lt": str(world.token(actor))})
    assert response.status_code in (expect, 302), (path, response.get_data(as_text=True)[:1000])


def _write_everything(client: FlaskClient, db: SQLAlchemy, world: World) -> None:
    """Each field as its writer writes it; the mark says which."""
    ids, session = world.ids, db.session()
    registration_id = world.a.deployment.registration_id
    _post(client, world, "owner", "/panel/ask", {"question": written("QUESTION")})
    _post(client, world, "owner", f"/panel/threads/{ids['thread']}/reply",
          {"text": written("LEARNER-REPLY")})  # fmt: skip
    _post(client, world, "mentor", f"/console/inbox/{ids['thread']}/reply",
          {"body": written("MENTOR-REPLY")})  # fmt: skip
    _post(
        client,
        world,
        "instructor",
        f"/console/plans/{ids['sequence']}/steps/{ids['step']}",
        {
            "title": written("STEP-TITLE"),
            "body": written("STEP-BODY"),
            "answers": f"yes: {written('ANSWER-LABEL')}\nnot_yet: Not yet\nhelp: I need help",
        },
    )
    _post(client, world, "owner", f"/panel/answer/{ids['question']}",
          {"answer": "yes", "text": written("ANSWER-TEXT")})  # fmt: skip
    _post(client, world, "owner", f"/panel/survey/{ids['survey']}",
          {"item-useful": "4", "item-more": written("SURVEY-TEXT")})  # fmt: skip
    _post(client, world, "owner", "/panel/agreement", {
        "agreement": str(ids["agreement"]), "version": str(ids["version"]),
        "mentee_expectations": written("MENTEE-TERMS"), "goals": written("GOALS")})  # fmt: skip
    agreements.edit(session, ids["agreement"], ids["person_mentor"],
                    mentor_expectations=written("MENTOR-TERMS"))  # fmt: skip
    _post(client, world, "mentor", "/console/snippets",
          {"title": written("SNIPPET-TITLE", SHORT), "body": written("SNIPPET-BODY")})  # fmt: skip
    topic = add_topic(session, registration_id, written("TOPIC"), course_id=world.a.id)
    _post(client, world, "instructor", "/console/plans/new", {
        "name": written("PLAN-NAME"), "topic": str(topic.id), "start": "none",
        "step-0-kind": "tip", "step-0-offset": "0", "step-0-title": written("NEW-STEP-TITLE"),
        "step-0-body": written("NEW-STEP-BODY")})  # fmt: skip
    _post(
        client,
        world,
        "mentor",
        "/console/sessions/new",
        {
            "title": written("SESSION-TITLE"),
            "description": written("SESSION-TEXT"),
            "format": "office_hours",
            "date": "2026-12-02",
            "time": "14:00",
            "time_zone": "Europe/Paris",
            "duration": "45",
            "place": written("SESSION-PLACE"),
            "url": 'https://meet.example.org/"><script>alert(1)</script>',
            "audience": "all",
        },
    )
    save_profile(
        session,
        registration_id,
        ids["person_mentor"],
        title=written("MENTOR-TITLE", SHORT),
        bio=written("MENTOR-BIO"),
        display_name=written("MENTOR-NAME", SHORT),
    )
    # The learner's name is the LMS's: a platform can send anything too.
    session.get_one(Person, ids["person_owner"]).name = written("LEARNER-NAME")
    for delivery in session.scalars(
        select(Delivery).where(Delivery.person_id == ids["person_owner"])
    ):
        delivery.mentor_id = ids["person_mentor"]  # as a pairing at the journey's start does
    session.commit()


#: Each page, who opens it, and the marks it must show.
PAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "panel": ("owner", "/panel/", ("STEP-TITLE", "STEP-BODY", "QUESTION", "MENTOR-TITLE")),
    "panel thread": ("owner", "/panel/threads/{thread}", ("LEARNER-REPLY", "MENTOR-REPLY")),
    "panel agreement": ("owner", "/panel/agreement", ("MENTEE-TERMS", "MENTOR-TERMS")),
    "panel why": ("owner", "/panel/why/{question}", ("STEP-TITLE",)),
    "console": ("mentor", "/console/", ()),
    "console inbox": ("mentor", "/console/inbox", ("QUESTION", "LEARNER-NAME")),
    "console thread": ("mentor", "/console/inbox/{thread}", (
        "LEARNER-REPLY", "MENTOR-REPLY", "SNIPPET-TITLE", "SNIPPET-BODY", "LEARNER-NAME",
        "STEP-TITLE", "ANSWER-TEXT")),
    "console snippets": ("mentor", "/console/snippets", ("SNIPPET-TITLE", "SNIPPET-BODY")),
    "console roster": ("mentor", "/console/roster", ("LEARNER-NAME",)),
    "console timeline": ("mentor", "/console/roster/{person_owner}",
                         ("LEARNER-NAME", "STEP-TITLE")),
    "console plans": ("instructor", "/console/plans", ("PLAN-NAME", "STEP-TITLE", "TOPIC")),
    "console plan preview": ("instructor", "/console/plans/{sequence}/preview",
                             ("STEP-TITLE", "STEP-BODY", "ANSWER-LABEL")),
    "console step": ("instructor", "/console/plans/{sequence}/steps/{step}",
                     ("STEP-TITLE", "STEP-BODY")),
    "console new plan": ("instructor", "/console/plans/new", ("TOPIC",)),
    "console results": ("instructor", "/console/results", ("STEP-TITLE",)),
    "console sessions": ("mentor", "/console/sessions", ("SESSION-TITLE", "SESSION-PLACE")),
    "console new session": ("mentor", "/console/sessions/new", ("LEARNER-NAME",)),
}  # fmt: skip


@pytest.mark.parametrize("page", sorted(PAGES))
def test_pages_show_what_people_wrote_as_text(
    client: FlaskClient, world: World, page: str
) -> None:  # fmt: skip
    actor, path, marks = PAGES[page]
    values = {name: str(value) for name, value in world.ids.items()}
    response = client.get(path.format(**values), query_string={"lt": world.token(actor)})
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    parsed = read(response.get_data(as_text=True), response.headers["Content-Security-Policy"])
    assert not parsed.found, f"{page}: executable markup from what people wrote"
    text = "".join(parsed.text)
    assert [mark for mark in marks if f"{mark} {SCRIPT}" not in text] == []


@pytest.mark.parametrize(
    ("path", "form", "shown"),
    [
        ("/panel/preferences", {"time_zone": written("ZONE"), "quiet_start": written("QUIET"),
                                "locale": written("LOCALE")}, None),
        ("/console/sessions/new", {"title": written("BAD-SESSION"), "place": written("PLACE"),
                                   "url": "javascript:alert(1)", "format": "office_hours"},
         "BAD-SESSION"),
        ("/console/plans/new", {"mode": "toml", "toml": written("TOML")}, "TOML"),
        ("/console/snippets", {"title": "", "body": written("EMPTY-TITLE")}, "EMPTY-TITLE"),
        ("/lti/deep-link/", {"kind": "checkin", "checkin_topic": "",
                             "survey_title": written("PICK", SHORT)}, "PICK"),
        ("/lti/deep-link/", {"kind": written("KIND", SHORT)}, "KIND"),  # named in the refusal
    ],
    ids=["preferences", "session", "plan", "snippet", "deep-link picker", "deep-link kind"],
)  # fmt: skip
def test_a_refused_form_shown_again_keeps_what_was_typed_as_text(
    client: FlaskClient, world: World, path: str, form: dict[str, str], shown: str | None
) -> None:
    """A form refused and shown again with what was typed (to correct it) escapes it too
    (the preferences' refusal is a page of its own, which does not show it: ``None``)."""
    writers = {"panel": "owner", "console": "mentor", "lti": "instructor"}
    actor = writers[path.split("/")[1]]
    extra = {"dl": world.words["picker"]} if path.startswith("/lti/") else {}
    response = client.post(path, data={**form, **extra, "lt": str(world.token(actor))})
    assert response.status_code == 400, response.get_data(as_text=True)[:1000]
    parsed = read(response.get_data(as_text=True), response.headers["Content-Security-Policy"])
    assert not parsed.found
    if shown is not None:
        assert f"{shown} {SCRIPT}" in "".join(parsed.text)


def test_the_deep_linking_response_shows_the_names_as_text(
    client: FlaskClient, world: World
) -> None:
    """The page that posts the picks back to the course names them."""
    names = {"checkin_topic": written("CHECKIN", SHORT), "survey_title": written("SURVEY", SHORT)}
    form = {"kind": ["checkin", "survey"], **names, "dl": world.words["picker"]}
    response = client.post("/lti/deep-link/", data={**form, "lt": world.token("instructor")})
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    parsed = read(response.get_data(as_text=True), response.headers["Content-Security-Policy"])
    assert not parsed.found
    assert f"SURVEY {SCRIPT}" in "".join(parsed.text)


def test_the_learners_email_shows_what_people_wrote_as_text(db: SQLAlchemy, world: World) -> None:
    """The HTML part of each email Ana gets: the edited question and its answers as buttons,
    the new session's place, the mentor's name in the signature."""
    session = db.session()
    ids = session.scalars(
        select(Delivery.id).where(Delivery.person_id == world.ids["person_owner"])
    ).all()  # the invitation to the new session included, not sent yet
    built = outgoing.build(session, ids)
    assert built
    text = ""
    for email in built:
        parsed = read(mime.html_part(email))
        assert not parsed.found, email.subject
        text += "".join(parsed.text)
    for mark in ("STEP-TITLE", "STEP-BODY", "ANSWER-LABEL", "MENTOR-NAME", "SESSION-PLACE"):
        assert f"{mark} {SCRIPT}" in text, mark
